#!/usr/bin/env python3
"""Converts Natural Earth country shapes (as TopoJSON from the npm package world-atlas) into
the compact, pre-projected file the HTML report embeds: world-110m.tsv.

Run once, when the shapes are to be updated (see README.md beside this file):

    python3 world.py path/to/world-atlas/package > world-110m.tsv

Countries come from countries-110m.json; those too small for the 1:110m scale (Singapore,
Hong Kong, Malta, ...) are taken from countries-50m.json as a single point, drawn as a dot.
Shapes are keyed by ISO 3166-1 alpha-2 (pycountry maps the numeric ids of the TopoJSON),
projected with the Natural Earth projection (Savric, Jenny, Patterson, Petrovic, Hurni 2011),
rounded to 0.1 unit on a 1000-unit-wide canvas and written as SVG path data with relative
moves, so the whole world is about 100 KB.
"""

import json
import math
import sys

import pycountry

WIDTH = 1000.0
# Shapes without an ISO numeric id in the TopoJSON, by their Natural Earth name: merged into
# the country that ISO (and every address registry) puts them in, or given the code address
# databases use (XK, Kosovo). Others (Siachen Glacier, Indian Ocean Ter.) are left out.
BY_NAME = {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO"}


def natural_earth(lon, lat):
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


X_MAX, _ = natural_earth(180.0, 0.0)
_, Y_MAX = natural_earth(0.0, 90.0)
SCALE = WIDTH / (2 * X_MAX)
HEIGHT = 2 * Y_MAX * SCALE


def to_canvas(lon, lat):
    """Projected point in tenths of a canvas unit (integers, so relative moves do not drift)."""
    x, y = natural_earth(lon, lat)
    return round((x + X_MAX) * SCALE * 10), round((Y_MAX - y) * SCALE * 10)


def num(tenths):
    s = f"{abs(tenths) // 10}.{abs(tenths) % 10}" if tenths % 10 else str(abs(tenths) // 10)
    if s.startswith("0."):
        s = s[1:]
    return ("-" if tenths < 0 else "") + s


def path(rings):
    """SVG path data: `M` absolute start, `l` relative steps, `z` per ring, from the previous
    ring's start (relative `m`) to keep numbers short."""
    out = []
    last = (0, 0)
    first = True
    for ring in rings:
        pts = []
        for p in ring:
            if not pts or pts[-1] != p:
                pts.append(p)
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts.pop()
        if len(set(pts)) < 3:
            continue
        x0, y0 = pts[0]
        if first:
            out.append(f"M{num(x0)} {num(y0)}")
            first = False
        else:
            out.append(f"m{num(x0 - last[0])} {num(y0 - last[1])}")
        out.append("l")
        prev = pts[0]
        nums = []
        for p in pts[1:]:
            nums.append(num(p[0] - prev[0]))
            nums.append(num(p[1] - prev[1]))
            prev = p
        s = nums[0]
        for n in nums[1:]:
            s += n if n.startswith("-") else " " + n
        out.append(s)
        out.append("z")
        last = (x0, y0)
    return "".join(out)


def decode(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring_points(arcs, ring):
    pts = []
    for i in ring:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(arc if not pts else arc[1:])
    return pts


def polygons(geom):
    if geom["type"] == "Polygon":
        return [geom["arcs"]]
    if geom["type"] == "MultiPolygon":
        return geom["arcs"]
    return []


def code_of(geom):
    name = geom.get("properties", {}).get("name", "")
    if geom.get("id") is None:
        return BY_NAME.get(name), name
    c = pycountry.countries.get(numeric=geom["id"])
    return (c.alpha_2 if c else None), name


def centroid(points):
    """Area-weighted centroid of one ring (shoelace), or the mean for degenerate rings."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if abs(a) < 1e-12:
        n = len(points)
        return sum(p[0] for p in points) / n, sum(p[1] for p in points) / n
    return cx / (3 * a), cy / (3 * a)


def ring_area(points):
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1])))


def main():
    folder = sys.argv[1]
    with open(f"{folder}/countries-110m.json") as f:
        small = json.load(f)
    with open(f"{folder}/countries-50m.json") as f:
        medium = json.load(f)
    with open(f"{folder}/package.json") as f:
        version = json.load(f)["version"]

    areas = {}  # code -> (name, [rings in canvas tenths])
    arcs = decode(small)
    for geom in small["objects"]["countries"]["geometries"]:
        code, name = code_of(geom)
        if code is None:
            continue
        rings = [[to_canvas(*p) for p in ring_points(arcs, r)] for poly in polygons(geom) for r in poly]
        if code in areas:
            areas[code][1].extend(rings)
        else:
            areas[code] = (name, rings)

    points = {}
    arcs = decode(medium)
    for geom in medium["objects"]["countries"]["geometries"]:
        code, name = code_of(geom)
        if code is None or code in areas:
            continue
        outer = [ring_points(arcs, poly[0]) for poly in polygons(geom)]
        if not outer:
            continue
        biggest = max(outer, key=ring_area)
        points[code] = (name, to_canvas(*centroid(biggest)))

    outline = [to_canvas(180.0, lat) for lat in range(-90, 91)]
    outline += [to_canvas(-180.0, lat) for lat in range(90, -91, -1)]
    graticule = []
    for lon in range(-150, 180, 30):
        graticule.append([to_canvas(lon, lat) for lat in range(-90, 91, 2)])
    for lat in range(-60, 61, 30):
        graticule.append([to_canvas(lon, lat) for lon in range(-180, 181, 2)])

    print(f"# Natural Earth 4.1.0 admin-0 countries (public domain) from world-atlas {version};")
    print("# written by world.py (see README.md). Natural Earth projection, 0.1-unit precision.")
    print("# Lines: CODE<TAB>a<TAB>name<TAB>path | CODE<TAB>p<TAB>name<TAB>x y | @size/@outline/@graticule.")
    print(f"@size\t{WIDTH:.0f}\t{HEIGHT:.1f}")
    print(f"@outline\t{path([outline])}")
    # Graticule lines are open polylines: written without `z`.
    lines = []
    for line in graticule:
        x0, y0 = line[0]
        steps = []
        prev = line[0]
        for p in line[1:]:
            if p != prev:
                steps.append(f"{num(p[0] - prev[0])} {num(p[1] - prev[1])}")
                prev = p
        lines.append(f"M{num(x0)} {num(y0)}l" + " ".join(steps))
    print(f"@graticule\t{''.join(lines)}")
    for code in sorted(areas):
        name, rings = areas[code]
        d = path(rings)
        if d:
            print(f"{code}\ta\t{name}\t{d}")
        else:
            x = sum(p[0] for r in rings for p in r) // max(1, sum(len(r) for r in rings))
            y = sum(p[1] for r in rings for p in r) // max(1, sum(len(r) for r in rings))
            print(f"{code}\tp\t{name}\t{num(x)} {num(y)}")
    for code in sorted(points):
        name, (x, y) = points[code]
        print(f"{code}\tp\t{name}\t{num(x)} {num(y)}")


if __name__ == "__main__":
    main()
