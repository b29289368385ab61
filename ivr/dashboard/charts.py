"""Small server-side SVG charts (no JavaScript, no CDN): stacked bars per day, each bar a link to its list."""
import math

from markupsafe import Markup, escape

COLORS = {
    "genuine": "#2e7d32", "locked": "#6a1b9a", "expired": "#ef6c00", "known_scam": "#c62828",
    "unconfirmed": "#f9a825", "no_record": "#546e7a", None: "#b0bec5", "reports": "#c62828",
}
# Report categories have their own palette; their legend draws its swatches in SVG, so the stylesheet (which
# carries COLORS as classes) needs no entry for them.
CATEGORY_COLORS = {
    "credentials": "#c62828", "remote_app": "#1565c0", "fee": "#ef6c00", "settlement_change": "#6a1b9a",
    "other": "#78909c",
}
WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 40, 28, 10
# Up to a month, every fifth day is labelled; longer periods get about eight labels.
LABEL_EVERY = 5
LABELS_AT_MOST = 8


def _nice_max(value):
    if value <= 5:
        return 5
    step = 10 ** (len(str(int(value))) - 1)
    return ((int(value) + step - 1) // step) * step


def stacked_bars(labels, series, title, names=None, link=None, colors=None):
    """Return an SVG (Markup) of stacked bars: `series` is [(key, [value per label]), ...]; `link(label, key)` gives
    the URL each segment opens (None for none); all text escaped."""
    names, colors = names or {}, colors or COLORS
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    bar = max(slot * 0.75, 1)
    every = LABEL_EVERY if len(labels) <= 31 else math.ceil(len(labels) / LABELS_AT_MOST)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" class="axis" text-anchor="end">{int(top * fraction)}</text>')
    for i, label in enumerate(labels):
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + plot_h
        for key, values in series:
            value = values[i]
            if not value:
                continue
            height = plot_h * value / top
            y -= height
            segment = (
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{colors.get(key, "#90a4ae")}">'
                f"<title>{escape(label)} {escape(names.get(key, key or '-'))}: {value}</title></rect>"
            )
            url = link(label, key) if link else None
            parts.append(f'<a href="{escape(url)}" class="bar">{segment}</a>' if url else segment)
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" class="axis" text-anchor="middle">{escape(label[5:])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(keys, names, colors=None):
    """Return the colour key for a chart's series as HTML (Markup); with `colors`, each swatch is drawn in SVG."""
    if colors:
        # An SVG fill is an attribute, not a style, so the CSP (no inline styles) allows it.
        items = "".join(
            f'<span class="key"><svg class="swatch" width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">'
            f'<rect width="10" height="10" fill="{colors.get(key, "#90a4ae")}"/></svg> {escape(names.get(key, key))}</span>'
            for key in keys
        )
        return Markup(f'<div class="legend">{items}</div>')
    # Each swatch's colour is a class in dashboard.css (the same as COLORS): the CSP forbids inline styles.
    items = "".join(
        f'<span class="key"><i class="k-{escape(key or "none")}"></i>{escape(names.get(key, key or "-"))}</span>'
        for key in keys
    )
    return Markup(f'<div class="legend">{items}</div>')
