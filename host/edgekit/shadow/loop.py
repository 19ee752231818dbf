"""The shadow-mode data loop in the simulator: drive → take over → pull → retrain → drive better.

Round 0 is the starting pilot. Each round:
1. evaluate: the pilot alone drives `laps` laps (a crash ends the run): laps completed, mean and max
   |cross-track error|;
2. autopilot with takeover: the pilot drives `laps` laps while the expert takes over whenever
   |cte| > `takeover_cte_m`; each takeover is an intervention and a capture window (edgekit.shadow);
   interventions per km;
3. unless it is the last round: pull the captures as a tub (edgekit data pull) and fine-tune the
   pilot on the base tubs plus every capture tub so far (edgekit train --finetune … --tub …
   --weight-interventions W).
The pilot that drives is the float .tflite under LiteRT (the Keras export; cheap per round): the
INT8 quantize → compile → flash chain is not run inside the loop. All driving figures are
`modelled` (the simulator); training times are `measured-host`.
"""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.errors import UserError
from edgekit.progress import status
from edgekit.provenance import figure
from edgekit.shadow.capture import Capture
from edgekit.shadow.pull import pull
from edgekit.shadow.sim import shadow_drive
from edgekit.shadow.store import WindowStore, WindowWriter
from edgekit.sim.drive import drive
from edgekit.sim.runners import LiteRTRunner

# the recipe of tests/test_train_pilot.py and `edgekit demo`: the expert on the oval, two recordings
BASE_RECORDINGS = (("oval", 3, 21, 0.3), ("oval", 2, 22, 0.5))


def base_pilot(out: Path, epochs: int = 4, threads: int | None = 1) -> tuple[Path, list[Path]]:
    """Record the oval and train the starting pilot on it (reused when already in `out`)."""
    from edgekit.models.train import train
    from edgekit.sim.record import record

    tubs = []
    for track, laps, seed, noise in BASE_RECORDINGS:
        tub = out / f"base-{track}-{seed}"
        if not (tub / "manifest.json").exists():
            record(track, laps, tub, seed=seed, noise=noise, show_progress=False)
        tubs.append(tub)
    pilot = out / "base.keras"
    if not pilot.exists() or not pilot.with_suffix(".tflite").exists():
        status(f"training the base pilot on {', '.join(t.name for t in tubs)}")
        train(tubs, pilot, epochs=epochs, batch_size=16, threads=threads, show_progress=False)
    return pilot, tubs


def run_rounds(track: str, rounds: int, out, pilot=None, base_tubs=(), laps: int = 2, epochs: int = 2,
               weight_interventions: float = 4.0, learning_rate: float = 5e-4, takeover_cte_m: float = 0.25,
               pre: int = 20, post: int = 20, seed: int = 0, threads: int | None = 1,
               track_scale: float = 1.0, track_width: float = 0.8) -> dict:
    from edgekit.models.train import train
    from edgekit.sim.tracks import make_track

    if rounds < 1 or laps < 1 or epochs < 1:
        raise UserError("--rounds, --laps and --epochs must be at least 1")
    out = Path(out)
    track_name, course = track, make_track(track, width=track_width, scale=track_scale)
    out.mkdir(parents=True, exist_ok=True)
    if pilot is None:
        pilot, base_tubs = base_pilot(out, threads=threads)
    elif not base_tubs:
        raise UserError("--pilot needs --base-tub (the data it was trained on, retrained on with the captures)")
    pilot = Path(pilot)
    if pilot.suffix != ".keras" or not pilot.exists() or not pilot.with_suffix(".tflite").exists():
        raise UserError(f"--pilot must be a .keras pilot with its float .tflite beside it (edgekit train): {pilot}")
    captures: list[Path] = []
    rows = []
    for k in range(rounds + 1):
        rdir = out / f"round-{k}"
        runner = LiteRTRunner(pilot.with_suffix(".tflite"))
        ev = drive(runner, course, laps=laps, seed=seed + k)
        writer = WindowWriter(WindowStore(rdir / "captures"))
        auto = shadow_drive(runner, course, mode="autopilot", laps=laps, takeover_cte_m=takeover_cte_m,
                            seed=seed + k, capture=Capture(writer, pre=pre, post=post, meta={"round": k}))
        writer.close()
        row = {"round": k, "pilot": str(pilot), "laps_target": laps,
               "laps_completed": ev.laps_completed, "completed": ev.completed, "end_reason": ev.end_reason,
               "mean_abs_cte_m": round(ev.mean_abs_cte_m, 4), "max_abs_cte_m": round(ev.max_abs_cte_m, 4),
               "off_track_events": ev.off_track_events,
               "interventions": auto.interventions, "autopilot_km": round(auto.km, 4),
               "interventions_per_km": round(auto.interventions_per_km, 2),
               "human_driving_s": round(auto.human_s, 2), "capture_windows": auto.windows,
               "capture_windows_dropped": auto.dropped_windows, "provenance": "modelled"}
        status(f"round {k}: {ev.laps_completed}/{laps} laps alone ({ev.end_reason}, {ev.off_track_events} times off the "
               f"lane), mean |cte| {ev.mean_abs_cte_m:.3f} m, max {ev.max_abs_cte_m:.3f} m; {auto.interventions} interventions "
               f"in {auto.km * 1000:.1f} m = {auto.interventions_per_km:.1f}/km (modelled)")
        if k < rounds:
            if auto.windows:
                pulled = pull(rdir / "captures", rdir / "tub")
                captures.append(rdir / "tub")
                row["pulled_records"] = pulled["records"]
            nxt = rdir / "pilot.keras"
            s = train(list(base_tubs), nxt, epochs=epochs, batch_size=16, seed=seed + k, learning_rate=learning_rate,
                      threads=threads, show_progress=False, finetune=pilot, extra_tubs=list(captures),
                      weight_interventions=weight_interventions)
            row["retrain_cpu_time"] = s["train_cpu_time"]
            row["retrain_samples"] = s["samples"]
            pilot = nxt
        rows.append(row)
    report = {"track": track_name, "track_scale": track_scale, "track_width_m": track_width, "rounds": rows, "laps": laps, "epochs_per_round": epochs,
              "weight_interventions": weight_interventions, "takeover_cte_m": takeover_cte_m,
              "base_tubs": [str(t) for t in base_tubs], "driven_by": "float .tflite (LiteRT), not the INT8 chain",
              "provenance": {"driving": "modelled", "training_time": "measured-host"},
              "improved": improved(rows)}
    report["plot"] = str(plot(report, out / "loop.png"))
    (out / "loop.json").write_text(json.dumps(report, indent=2))
    return report


def improved(rows) -> dict:
    """Did the loop do what it is for? Last round completes the laps; interventions/km fall."""
    ipk = [r["interventions_per_km"] for r in rows]
    return {"completes_laps_at_end": rows[-1]["completed"],
            "interventions_per_km_fall_each_round": all(b < a for a, b in zip(ipk, ipk[1:]) if a > 0),
            "interventions_per_km_first_last": figure([ipk[0], ipk[-1]], "1/km", "modelled")}


def plot(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rounds"]
    k = [r["round"] for r in rows]
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
    ax[0].bar(k, [r["interventions_per_km"] for r in rows], color="tab:red")
    ax[0].set_title("interventions per km")
    ax[1].plot(k, [r["mean_abs_cte_m"] for r in rows], "o-", label="mean")
    ax[1].plot(k, [r["max_abs_cte_m"] for r in rows], "s--", label="max")
    ax[1].set_title("|cross-track error|, pilot alone (m)")
    ax[1].legend()
    ax[2].bar(k, [r["laps_completed"] for r in rows], color="tab:green")
    ax[2].axhline(report["laps"], color="k", lw=0.8)
    ax[2].set_title(f"laps completed of {report['laps']}")
    for a in ax:
        a.set_xlabel("round")
        a.set_xticks(k)
    fig.suptitle(f"shadow-mode loop on '{report['track']}' (scale {report['track_scale']}, takeover at |cte| > "
                 f"{report['takeover_cte_m']} m; simulator: modelled)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
