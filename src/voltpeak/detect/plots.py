"""Pictures of what ``voltpeak detect`` and ``voltpeak series`` found, as PNG and SVG (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voltpeak.detect.report import si_unit

COLOURS = {"anodic": "#d62728", "cathodic": "#1f77b4"}


def _figure(width: float = 7.0, height: float = 4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, folder: Path, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    written = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    for path in written:
        fig.savefig(path)
    return written


def plot_cv(v, line: dict, folder: Path, name: str | None = None) -> list[Path]:
    """The CV (every cycle) with each peak marked (▲ anodic, ▼ cathodic), its height over its baseline drawn as a
    vertical bar, and each couple's E1/2 as a dashed line; named after the file (``name`` overrides)."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    factor, unit = si_unit([float(np.abs(v.current).max())], "A/m²" if v.quantity == "j" else "A")
    scale = 1 / factor
    ax.plot(v.potential_V, v.current * scale, color="#444444", lw=0.8)
    for p in line["peaks"]:
        colour = COLOURS[p["direction"]]
        ax.plot(p["potential"], p["current"] * scale, "^" if p["direction"] == "anodic" else "v", color=colour, ms=8)
        if "height" in p:
            ax.plot([p["potential"]] * 2, [(p["current"] - p["height"]) * scale, p["current"] * scale], color=colour,
                    lw=1.0, alpha=0.7)
    for c in line["couples"]:
        ax.axvline(c["E_half"], color="#2ca02c", ls="--", lw=0.8)
        ax.annotate(f"E1/2 {c['E_half']:.3f} V\nΔEp {c['delta_Ep'] * 1000:.0f} mV", (c["E_half"], 0.97),
                    xycoords=("data", "axes fraction"), va="top", ha="left", fontsize=7, color="#2ca02c")
    reference = f" vs {line['reference']}" if line.get("reference") else ""
    ax.set(xlabel=f"E / V{reference}", ylabel=f"{'j' if v.quantity == 'j' else 'I'} / {unit}",
           title=Path(line["source"]).name)
    return _save(fig, folder, name or Path(line["source"]).name)


def plot_series(result: dict, folder: Path) -> list[Path]:
    """Per couple of a scan-rate series: ip against v^½ with its line, log ip against log v, Ep against log v."""
    written = []
    for k, c in enumerate(result["couples"], start=1):
        fig = _figure(10.0, 3.4)
        axes = [fig.add_subplot(1, 3, i) for i in (1, 2, 3)]
        for side in ("anodic", "cathodic"):
            if side not in c:
                continue
            fit, colour = c[side], COLOURS[side]
            v = np.array(fit["scan_rates"])
            ip, ep = np.array(fit["ip"]), np.array(fit["Ep"])
            x = np.sqrt(v)
            line = fit["ip_vs_sqrt_v"]
            axes[0].plot(x, ip * 1e6, "o", color=colour, label=side)
            axes[0].plot(x, (line["slope"] * x + line["intercept"]) * 1e6, "-", color=colour, lw=0.8)
            axes[1].plot(np.log10(v), np.log10(ip), "o-", color=colour,
                         label=f"slope {fit['log_ip_vs_log_v']['slope']:.2f}")
            axes[2].plot(np.log10(v), ep, "o-", color=colour)
        axes[0].set(xlabel="v^½ / (V/s)^½", ylabel="|ip| / µA", title=f"couple {k}: Randles–Ševčík")
        axes[1].set(xlabel="log v / (V/s)", ylabel="log |ip| / A", title="0.5 diffusion, 1 adsorption")
        axes[2].set(xlabel="log v / (V/s)", ylabel="Ep / V", title="Ep against log v")
        axes[0].legend(fontsize=7)
        axes[1].legend(fontsize=7)
        written += _save(fig, folder, f"series_couple_{k}")
    return written
