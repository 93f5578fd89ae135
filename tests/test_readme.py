"""The README's "Ten lines" run, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _ten_lines() -> str:
    text = README.read_text()
    section = text.split("## Ten lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_ten_lines_are_found():
    code = _ten_lines()
    assert "ProgramSynthesisClassifier" in code and code.count("print(") == 3


@pytest.mark.slow
def test_the_ten_lines_print_what_their_comments_say(tmp_path, monkeypatch):
    code = _ten_lines()
    claims = re.findall(r"print\(.*\)\s+#\s*(.*)", code)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue().splitlines()
    assert len(printed) == len(claims) == 3
    program, score, expression = printed
    assert program == claims[0]
    assert f"{float(score):.3f}" == claims[1]
    assert expression.startswith(claims[2].removesuffix("...").rstrip())
    assert (tmp_path / "program.py").exists()


def test_the_two_commands_pin_torch_and_say_how_to_get_the_cpu_build():
    text = README.read_text()
    commands = re.findall(r"```bash\n(.*?)```", text.split("## Ten lines", 1)[0], re.S)
    assert len(commands) == 2
    for command in commands:
        # torch goes in first, pinned, so that the package's install keeps it
        torch_step, package_step = command.split(" && ")[2:4]
        assert torch_step == "pip install -c constraints-cpu.txt torch==2.13.0"
        assert package_step.startswith("pip install -c constraints-cpu.txt -e ")
    # where PyPI's pin is the CUDA build (stock Linux), the CPU index is named
    note = text.split("## Ten lines", 1)[0]
    assert "stock Linux" in note
    assert "--index-url https://download.pytorch.org/whl/cpu" in note
