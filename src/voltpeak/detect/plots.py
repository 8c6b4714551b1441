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
    """The CV, one colour per cycle, with each peak marked (▲ anodic, ▼ cathodic), its baseline at the peak (a short
    dotted line) and its height over it (a bar), and each couple's E1/2 as a dashed line labelled above the frame
    (not over the curve); named after the file (``name`` overrides)."""
    from matplotlib import colormaps

    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    factor, unit = si_unit([float(np.abs(v.current).max())], "A/m²" if v.quantity == "j" else "A")
    scale = 1 / factor
    cycles = v.cycle_numbers()
    n = int(cycles.max()) if len(cycles) else 1
    shades = colormaps["viridis"](np.linspace(0.0, 0.85, n)) if n > 1 else ["#444444"]
    for k in range(1, n + 1):
        keep = cycles == k
        ax.plot(v.potential_V[keep], v.current[keep] * scale, color=shades[k - 1], lw=0.8,
                label=f"cycle {k}" if n > 1 else None)
    half = 0.01 * float(np.ptp(v.potential_V))  # the baseline's tick: 1 % of the window on each side
    for p in line["peaks"]:
        colour = COLOURS[p["direction"]]
        ax.plot(p["potential"], p["current"] * scale, "^" if p["direction"] == "anodic" else "v", color=colour, ms=8)
        if "height" in p:
            base = (p["current"] - p["height"]) * scale
            ax.plot([p["potential"]] * 2, [base, p["current"] * scale], color=colour, lw=1.0, alpha=0.7)
            ax.plot([p["potential"] - half, p["potential"] + half], [base, base], color=colour, lw=1.0, ls=":")
    labelled = []
    for c in line["couples"]:
        if any(abs(c["E_half"] - e) < 0.01 for e in labelled):
            continue  # the same couple in another cycle
        labelled.append(c["E_half"])
        ax.axvline(c["E_half"], color="#2ca02c", ls="--", lw=0.8)
        ax.annotate(f"{c['E_half']:.3f} V\nΔEp {c['delta_Ep'] * 1000:.0f} mV", (c["E_half"], 1.01),
                    xycoords=("data", "axes fraction"), va="bottom", ha="center", fontsize=7, color="#2ca02c",
                    annotation_clip=False)
    if n > 1:
        ax.legend(fontsize=7, frameon=False, loc="best")
    reference = f" vs {line['reference']}" if line.get("reference") else ""
    ax.set(xlabel=f"E / V{reference}", ylabel=f"{'j' if v.quantity == 'j' else 'I'} / {unit}")
    fig.suptitle(Path(line["source"]).name + ("   (dashed: E1/2 of each couple)" if line["couples"] else ""),
                 fontsize=9)
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
