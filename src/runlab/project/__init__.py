"""A runlab project: the folder holding ``runlab.toml``, and the designs and tasks in it.

The project is the nearest folder, from the working directory up, that holds a
``runlab.toml`` or a ``pyproject.toml`` with a ``[tool.runlab]`` table (``runlab.toml``
wins when one folder has both). Every setting is optional; paths are relative to that
folder::

    store = "runs"                 # the default store (--store, $RUNLAB_STORE, store: win)
    designs = "designs"            # design folders or .py files (default: designs, designs.py)
    tasks = ["tasks.py", "tasks"]  # task files or folders (this is the default)

Nothing is indexed. Designs are found by importing the design files each time they are
asked for (so a listing is what ``runlab run`` would load, counted), and tasks by parsing
the task files with :mod:`ast` (so listing them runs none of their imports). A file that
cannot be read is one problem line, and the search goes on.

Usage::

    project = find_project()                 # None outside a project
    project.store_path                       # /home/me/study/runs
    found = list_designs(project)            # DesignInfo(ref="designs/demo.py:grid3", ...)
    found = list_tasks(project)              # TaskInfo(ref="tasks:train", doc="...")
    init_project("study")                    # runlab.toml, designs/demo.py, tasks.py, sweep.yaml
"""

from __future__ import annotations

from runlab.project.config import (
    CONFIG_FILE,
    DEFAULT_DESIGNS,
    DEFAULT_STORE,
    DEFAULT_TASKS,
    PYPROJECT,
    Project,
    current_project,
    find_project,
    project_store,
    read_config,
    shown,
)
from runlab.project.discover import (
    DesignInfo,
    Found,
    TaskInfo,
    designs_in_file,
    list_designs,
    list_tasks,
)
from runlab.project.scaffold import DEMO_FILES, InitResult, config_text, init_project

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_DESIGNS",
    "DEFAULT_STORE",
    "DEFAULT_TASKS",
    "DEMO_FILES",
    "PYPROJECT",
    "DesignInfo",
    "Found",
    "InitResult",
    "Project",
    "TaskInfo",
    "config_text",
    "current_project",
    "designs_in_file",
    "find_project",
    "init_project",
    "list_designs",
    "list_tasks",
    "project_store",
    "read_config",
    "shown",
]
