"""voltpeak's Vega-Lite worker (``voltpeak.render.programs``): reads one JSON request per line on stdin
({"spec", "theme", "out"}), draws the spec with vl-convert into the PNG ``out``, and answers one JSON line: the
plot area's edges in pixels from the top-left corner, as Vega's scenegraph placed them, or {"error": message}.

A process of its own: vl-convert's runtime (threads, V8) does not survive a fork, and builds fork their workers.
"""

from __future__ import annotations

import json
import sys


def draw(request: dict) -> dict:
    import vl_convert

    theme = request["theme"] or None
    scene = vl_convert.vegalite_to_scenegraph(request["spec"], theme=theme)
    ox, oy = scene["origin"]
    area = scene["scenegraph"]["items"][0]  # the plot area's group: its size after the axes took their room
    with open(request["out"], "wb") as f:
        f.write(vl_convert.vegalite_to_png(request["spec"], theme=theme))
    return {"box": [ox + area["x"], ox + area["x"] + area["width"], oy + area["y"], oy + area["y"] + area["height"]]}


def main():
    for line in sys.stdin:
        try:
            answer = draw(json.loads(line))
        except Exception as e:  # the caller raises it with the message
            answer = {"error": f"{type(e).__name__}: {e}".replace("\n", " ")}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
