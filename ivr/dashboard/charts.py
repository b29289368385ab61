"""Small server-side SVG charts (no JavaScript, no CDN): stacked bars per day."""
from markupsafe import Markup, escape

COLORS = {
    "genuine": "#2e7d32", "locked": "#6a1b9a", "expired": "#ef6c00", "known_scam": "#c62828",
    "unconfirmed": "#f9a825", "no_record": "#546e7a", None: "#b0bec5", "reports": "#c62828",
}
WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 40, 28, 10


def _nice_max(value):
    if value <= 5:
        return 5
    step = 10 ** (len(str(int(value))) - 1)
    return ((int(value) + step - 1) // step) * step


def stacked_bars(labels, series, title, names=None):
    """Return an SVG (Markup) of stacked bars: `series` is [(key, [value per label]), ...]; all text escaped."""
    names = names or {}
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    bar = max(slot * 0.75, 1)
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
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{COLORS.get(key, "#90a4ae")}">'
                f"<title>{escape(label)} {escape(names.get(key, key or '-'))}: {value}</title></rect>"
            )
        if i % 5 == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" class="axis" text-anchor="middle">{escape(label[5:])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(keys, names):
    """Return the colour key for a chart's series as HTML (Markup)."""
    # Each swatch's colour is a class in dashboard.css (the same as COLORS): the CSP forbids inline styles.
    items = "".join(
        f'<span class="key"><i class="k-{escape(key or "none")}"></i>{escape(names.get(key, key or "-"))}</span>'
        for key in keys
    )
    return Markup(f'<div class="legend">{items}</div>')
