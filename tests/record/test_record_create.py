"""Writing a new folder's files in place, and what a forked child writes as itself."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runlab.record.files import atomic_write_json, create_json, create_text, dumps


def test_create_json_writes_what_the_atomic_writer_writes(tmp_path: Path) -> None:
    data = {"b": [1, 2.5, None], "a": "é", "nested": {"x": {"y": [True]}}, "nan": float("nan")}
    create_json(tmp_path / "created.json", data)
    atomic_write_json(tmp_path / "atomic.json", data)
    created = (tmp_path / "created.json").read_bytes()
    assert created == (tmp_path / "atomic.json").read_bytes()
    assert created.decode() == dumps(data) + "\n"


def test_create_never_overwrites_a_file(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_text("theirs")
    with pytest.raises(FileExistsError):
        create_text(path, "ours")
    assert path.read_text() == "theirs"


def test_unserialisable_data_creates_nothing_half_written(tmp_path: Path) -> None:
    class Odd:
        def __repr__(self) -> str:
            return "<odd>"

    create_json(tmp_path / "p.json", {"obj": Odd()})  # stored as its repr
    assert json.loads((tmp_path / "p.json").read_text()) == {"obj": "<odd>"}
    with pytest.raises(RecursionError):
        loop: list[object] = []
        loop.append(loop)
        create_json(tmp_path / "loop.json", {"loop": loop})
    assert sorted(os.listdir(tmp_path)) == ["p.json"]


def test_a_forked_child_records_and_names_its_temp_files_as_itself(
    run_script, tmp_path: Path
) -> None:
    result = run_script(
        """
        import json, os
        from runlab.record import files
        from runlab.record.run import base_record

        def record():
            return base_record("r", name=None, description="", tags=None, params_hash="h",
                               git=None, command=["true"])

        parent = record()
        temps = []
        real_replace = os.replace
        def replace(src, dst):
            temps.append(os.path.basename(src))
            real_replace(src, dst)
        os.replace = replace
        pid = os.fork()
        if pid == 0:
            files.atomic_write_json("child.json", record())
            print(json.dumps({"pid": os.getpid(), "temps": temps}), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        files.atomic_write_json("parent.json", parent)
        print(json.dumps({"pid": os.getpid(), "temps": temps}), flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    child, parent = (json.loads(line) for line in result.stdout.splitlines())
    assert child["pid"] != parent["pid"]
    assert [t.split(".")[3] for t in child["temps"]] == [str(child["pid"])]
    assert [t.split(".")[3] for t in parent["temps"]] == [str(parent["pid"])]
    written = {n: json.loads((tmp_path / f"{n}.json").read_text()) for n in ("child", "parent")}
    assert written["child"]["pid"] == child["pid"] != written["parent"]["pid"] == parent["pid"]
    if written["child"]["pid_start"] is not None:  # (where the start time can be read)
        assert written["child"]["pid_start"] >= written["parent"]["pid_start"]
