"""The interactive report: one self-contained HTML file, loaded in a real browser (headless
Chromium from Debian's packages) that renders every plot without a console error."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import evonas
from evonas.cli import main
from tests.plugins.tiny import tiny_scenario

pytest.importorskip("plotly", reason="the report needs the 'report' extra (plotly)")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("report")
    out = []
    for seed in (0, 1):
        path = tmp / f"s{seed}.toml"
        path.write_text(tiny_scenario(seed=seed, evaluations=8, name=f"tiny{seed}"))
        out.append(evonas.run(path, out=tmp / f"run{seed}").dir)
    return out


def test_the_report_is_one_self_contained_file(runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", *map(str, runs), "--out", str(out)]) == 0
    page = out.read_text()
    assert "<script src=" not in page and "https://" not in page.split("</script>", 1)[1]
    for div in ("front0", "front1", "parallel0", "overlay", "hypervolume"):
        assert f'id="{div}"' in page
    assert "plotly_click" in page  # the lineage of a clicked network


def test_a_real_browser_renders_it_without_console_errors(runs: list[Path], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no Chromium here: 'apt-get install chromium' to run the browser test")
    out = tmp_path / "report.html"
    assert main(["report", str(runs[0]), "--out", str(out)]) == 0
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, *profile, "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    rendered = len(re.findall(r'class="main-svg"', dom.stdout))
    assert rendered >= 4, dom.stderr[-2000:]  # front, parallel coordinates, moves, hypervolume
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            *profile,
            "--window-size=1300,2400",
            f"--screenshot={shot}",
            out.as_uri(),
        ],
        capture_output=True,
        timeout=180,
    )
    assert shot.stat().st_size > 20_000
