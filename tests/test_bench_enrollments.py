"""``python -m bench.enrollments`` runs end to end at a tiny size and reports sane numbers.

Timing is never asserted (the machine is shared); only that every phase ran over every row, that
the rows were checked correct, and that the figures are positive and plausible.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.enrollments import run


def test_the_enrollments_benchmark_runs_on_sqlite_and_checks_its_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given 50 enrollments due at the same instant, on SQLite in a temporary folder
    n = 50

    # when the benchmark runs every phase, with 2 worker threads
    rows = run(n, ["sqlite"], threads=[2], workdir=tmp_path)

    # then each phase handled all 50 rows, and the rows were right afterwards
    phases = {(row.phase, row.campaign): row for row in rows}
    assert set(phases) == {
        ("batched", ""),
        ("raw", ""),
        ("sweep", "split"),
        ("relance", "split"),
        ("sweep", "post_purchase"),
        ("relance", "post_purchase"),
    }
    for row in rows:
        assert row.problems == [], row.what
        assert row.items == n
        assert row.seconds > 0
        assert row.rate > 0
        assert 10 < row.rss_start_mb <= row.peak_mb < 2048
    # split → delay: two steps per enrollment; post-purchase: split, thank-you, wait (+ delay)
    assert phases["relance", "split"].steps == 2 * n
    assert 3 * n <= (phases["relance", "post_purchase"].steps or 0) <= 4 * n
    assert phases["relance", "split"].threads == 2
    # and the table was printed, the SQLite folder removed
    table = capsys.readouterr().out
    assert "| sqlite | relance advance_enrollment (split) | 2 |" in table
    assert "| sqlite | raw UPDATE per row, own transaction | 2 |" in table
    assert list(tmp_path.iterdir()) == []
