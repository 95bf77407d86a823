"""``segment codebook infer`` on the command line: a thin call of ``draft_codebook`` that writes
the commented YAML and prints the roles it found."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import run_cli

from segment import Codebook

N = 30


def test_infer_writes_commented_yaml_and_prints_the_battery(tmp_path, capsys):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "rownames": np.arange(1, N + 1),
            "idno": np.arange(1000, 1000 + N),
            "pspwght": rng.uniform(0.5, 2, N).round(3),
            "pweight": np.full(N, 0.3),
            "agea": rng.integers(18, 90, N),
            "imbgeco": rng.integers(0, 11, N),
            "imueclt": rng.integers(0, 11, N),
            "imwbcnt": rng.integers(0, 11, N),
        }
    )
    data = tmp_path / "poll.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "cb.yaml"
    code, _, err = run_cli(["codebook", "infer", data, "-o", out], capsys)
    assert code == 0
    assert "id: idno; weight: pspwght" in err
    assert "Segmentation items (3): imbgeco, imueclt, imwbcnt" in err
    text = out.read_text()
    assert text.startswith("# Codebook drafted by `segment codebook infer` from poll.csv.")
    assert "# rownames: ignored - row names" in text
    assert "pweight not the weight" in text
    cb = Codebook.load(out)
    assert cb.domain("immigration").role == "segmentation"
    code, stdout, _ = run_cli(["codebook", "check", out, data], capsys)
    assert code == 0, stdout
