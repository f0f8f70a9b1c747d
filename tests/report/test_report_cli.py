"""``runlab plot`` and ``runlab plot curves`` through CliRunner: files, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli import cli

PNG = b"\x89PNG\r\n\x1a\n"


def plot(store: Path, *args: str):
    return CliRunner().invoke(cli, ["--store", str(store), "plot", *args])


def svg_texts(path: Path) -> list[str]:
    """Every text of an SVG (parsed as XML), one string per <text> element."""
    root = ET.parse(path).getroot()
    texts = root.iter("{http://www.w3.org/2000/svg}text")
    return ["".join(t.itertext()).strip() for t in texts]


def test_the_issue_xy_form_writes_a_png(svm: Path, tmp_path: Path):
    out = tmp_path / "fig.png"
    args = "--x params.C --y metrics.acc --hue params.kernel --over params.seed --logx -o"
    result = plot(svm, *args.split(), str(out))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"wrote {out}\n")
    assert out.read_bytes()[:8] == PNG


def test_xy_svg_holds_legend_and_axis_label_texts(svm: Path, tmp_path: Path):
    out = tmp_path / "fig.svg"
    result = plot(
        svm, "--x", "C", "--y", "acc", "--hue", "kernel", "--logx", "--title", "SVM", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    texts = svg_texts(out)
    for text in ("C (log)", "acc", "kernel", "linear", "rbf", "SVM"):
        assert text in texts


def test_xy_pdf(svm: Path, tmp_path: Path):
    out = tmp_path / "fig.pdf"
    result = plot(svm, "--x", "C", "--y", "acc", "--over", "seed", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


def test_dpi_sets_the_png_size(svm: Path, tmp_path: Path):
    sizes = []
    for dpi in ("50", "100"):
        out = tmp_path / f"{dpi}.png"
        assert plot(svm, "--x", "C", "--y", "acc", "--dpi", dpi, "-o", str(out)).exit_code == 0
        width = int.from_bytes(out.read_bytes()[16:20], "big")  # IHDR: width, then height
        sizes.append(width)
    assert sizes[1] == pytest.approx(2 * sizes[0], abs=2)


def test_the_issue_curves_form_writes_a_png(svm: Path, tmp_path: Path):
    out = tmp_path / "curves.png"
    result = plot(svm, "curves", "--y", "loss", "--where", "kernel == 'rbf'", "-o", str(out))
    assert (result.exit_code, result.stderr) == (0, f"wrote {out}\n")
    assert out.read_bytes()[:8] == PNG


def test_curves_svg_with_hue(svm: Path, tmp_path: Path):
    out = tmp_path / "curves.svg"
    result = plot(
        svm,
        "curves",
        "--y",
        "loss",
        "--hue",
        "params.C",
        "-w",
        "kernel == 'linear'",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    texts = svg_texts(out)
    for text in ("step", "loss", "C", "0.1", "1", "10", "mean ± std over 3 runs per C"):
        assert text in texts


def test_curves_pdf_of_many_runs(svm: Path, tmp_path: Path):
    out = tmp_path / "curves.pdf"
    result = plot(svm, "curves", "--y", "loss", "--x", "time", "--logy", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--x", "C", "--y", "acc", "-o", "{tmp}/fig.jpg"],
            "error: cannot write {tmp}/fig.jpg: suffix '.jpg'; "
            "an image file ends in .png, .svg, .pdf",
        ),
        (
            ["curves", "--y", "loss", "-o", "{tmp}/fig"],
            "error: cannot write {tmp}/fig: no suffix; an image file ends in .png, .svg, .pdf",
        ),
        (
            ["--x", "C", "--y", "acx", "-o", "{tmp}/fig.png"],
            "error: unknown column 'acx'; did you mean metrics.acc?",
        ),
        (
            ["--x", "C", "--y", "acc", "--hue", "gamma", "-o", "{tmp}/fig.png"],
            "error: unknown column 'gamma' (columns: params.C, params.kernel, "
            "params.seed, metrics.acc, metrics.loss, id, name, status, start, end, …)",
        ),
        (
            ["--x", "C", "--y", "acc", "--where", "C > 100", "-o", "{tmp}/fig.png"],
            "error: no runs match C > 100; nothing written",
        ),
        (
            ["curves", "--y", "loss", "-w", "seed == 7", "-o", "{tmp}/c.svg"],
            "error: no runs match seed == 7; nothing written",
        ),
        (
            ["curves", "--y", "acc", "-o", "{tmp}/c.svg"],
            "error: no run logged 'acc' (logged: loss)",
        ),
        (
            ["--logx", "--dpi", "300", "curves", "--y", "loss", "-o", "{tmp}/c.png"],
            "error: --logx, --dpi are options of the x-y plot; "
            "put the options of 'curves' after it",
        ),
        (
            ["--x", "kernel", "--y", "acc", "--logx", "-o", "{tmp}/fig.png"],
            "error: log x: params.kernel is not numeric",
        ),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(
    svm: Path, tmp_path: Path, args: list[str], message: str
):
    result = plot(svm, *(a.format(tmp=tmp_path) for a in args))
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        message.format(tmp=tmp_path) + "\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_empty_store_is_an_error(tmp_path: Path):
    store = tmp_path / "runs"
    store.mkdir()
    result = plot(store, "curves", "--y", "loss", "-o", str(tmp_path / "c.png"))
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: no runs in {store}; nothing written\n",
    )
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(
    "args,missing",
    [
        (["--y", "acc", "-o", "f.png"], "'--x'"),
        (["--x", "C", "--y", "acc"], "'-o' / '--output'"),
        (["curves", "--y", "loss"], "'-o' / '--output'"),
        (["curves", "-o", "f.png"], "'--y'"),
    ],
)
def test_missing_options_are_click_usage_errors(svm: Path, args: list[str], missing: str):
    result = plot(svm, *args)
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: Missing option {missing}.\n")


def test_plot_help_lists_curves_and_examples():
    result = CliRunner().invoke(cli, ["plot", "--help"])
    assert result.exit_code == 0
    assert "runlab plot --x params.C --y metrics.acc --hue params.kernel" in result.output
    assert "curves  Learning curves" in result.output


def test_plot_help_imports_no_matplotlib():
    code = (
        "import sys, json\nfrom runlab.cli import main\n"
        "for argv in (['runlab', 'plot', '--help'], ['runlab', 'plot', 'curves', '--help']):\n"
        "    sys.argv = argv\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'pandas', 'numpy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_runlab_report_imports_no_matplotlib():
    code = "import sys, runlab.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
