"""``voltpeak series PATH...``: a scan-rate series of one system (Randles–Ševčík, log ip vs log v, Ep vs log v)."""

from __future__ import annotations

import sys
from pathlib import Path

from voltpeak.cli.common import Output, positive_float, positive_int, refuse_to_overwrite
from voltpeak.errors import InputError


def add_parser(sub) -> None:
    s = sub.add_parser("series", help="a scan-rate series: Randles–Ševčík, log ip vs log v, Ep vs log v",
                       description="Several CVs of one system at different scan rates: couples followed across "
                                   "them; ip vs v^1/2 (D from Randles–Ševčík with --n, --area, --conc), log ip vs "
                                   "log v (0.5 diffusion, 1 adsorption), Ep vs log v (alpha). JSON on stdout.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="CV files of one system, at three scan rates or more")
    s.add_argument("--scan-rates", type=lambda t: [positive_float(x) for x in t.split(",")], metavar="V1,V2,...",
                   help="scan rates in V/s, one per file (default: from each file)")
    s.add_argument("--cycle", type=positive_int, default=1, metavar="N", help="the cycle read (default 1)")
    s.add_argument("--n", type=positive_int, default=1, help="electrons per couple (default 1)")
    s.add_argument("--area", type=positive_float, metavar="CM2", help="electrode area, cm² (for D)")
    s.add_argument("--conc", type=positive_float, metavar="MM", help="bulk concentration, mM (for D)")
    s.add_argument("--plot", metavar="DIR", help="write the series' plots (PNG and SVG) into DIR")
    s.add_argument("-o", "--output", metavar="OUT.json", help="write here instead of stdout")
    s.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")
    s.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from voltpeak.detect import Analysis
    from voltpeak.detect.files import analyse_file
    from voltpeak.detect.series import analyse_series, scan_rate

    # Said before any file is read (the library sees the count only after all of them).
    if args.scan_rates and len(args.scan_rates) != len(args.paths):
        raise InputError(f"--scan-rates gives {len(args.scan_rates)} rates for {len(args.paths)} files")
    if args.output:
        refuse_to_overwrite(args.output, args.force)
    analysis = Analysis(area_cm2=args.area)
    lines, rates = [], []
    for k, path in enumerate(args.paths):
        line, v = analyse_file(path, args.cycle, analysis=analysis)  # the area alone changes no potential or current
        rate = args.scan_rates[k] if args.scan_rates else scan_rate(v)
        if rate is None:
            raise InputError(f"{path}: the file gives no scan rate (nor time to read one from); give --scan-rates")
        lines.append(line)
        rates.append(rate)
    result = analyse_series(lines, rates, args.n, args.area, args.conc, sources=list(args.paths))
    result["sources"] = list(args.paths)
    out = Output(args.output, args.force)  # only once there is something to write: no stray temporary file
    out.write(result, indent=1)
    out.close()
    for c in result["couples"]:
        figures = [f"E1/2 {np.mean(c['E_half']):.4f} V over {len(c['scan_rates'])} of {len(args.paths)} files"
                   + (f" (not found in {', '.join(Path(m).name for m in c['missing'])})" if c["missing"] else "")]
        for side in ("cathodic", "anodic"):
            if side in c:
                fit = c[side]
                log = fit["log_ip_vs_log_v"]
                text = f"{side}: log ip/log v slope {log['slope']:.2f} ({fit['regime']}, R² {log['r2']:.2f})"
                if "D_cm2_s" in fit:
                    text += f", D {fit['D_cm2_s']:.3g} cm²/s (ip–v½ R² {fit['ip_vs_sqrt_v']['r2']:.2f})"
                if "alpha" in fit:
                    text += f", alpha {fit['alpha']:.2f} (Ep–log v R² {fit['Ep_vs_log_v']['r2']:.2f})"
                text += "".join(f", no {name.split('_')[0]}: {why}" for name, why in fit["withheld"].items())
                figures.append(text)
        print("voltpeak series: " + "; ".join(figures), file=sys.stderr)
        for warning in c["warnings"]:
            print(f"voltpeak series: warning: {warning}", file=sys.stderr)
    if not result["couples"]:
        print("voltpeak series: no couple was found in three or more of the files", file=sys.stderr)
    if args.plot:
        from voltpeak.detect.plots import plot_series

        for written in plot_series(result, Path(args.plot)):
            print(f"voltpeak series: wrote {written}", file=sys.stderr)
    return 0
