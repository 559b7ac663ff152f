"""The Diff view in a real browser: MobileNetV2 → V3-Large in a laptop window (1440 x 900) and on a
projector (1280 x 720 CSS px at 150 %), in English and Chinese. The aligned table is not cut at
the right, the three waterfalls and the two networks are drawn, the export downloads a valid SVG
and a PNG at twice the SVG's size, and the Chinese page has no English left in its own words.
Screenshots (and the exported PNGs) go to tests/artifacts/screenshots (or $SCREENSHOT_DIR)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect
from test_browser import SHOTS, browser, idle, server  # noqa: F401 - the fixtures, shared with test_browser

import mobilenet_core as mc

pytestmark = pytest.mark.browser

SIZES = {
    "1440": dict(viewport={"width": 1440, "height": 900}),
    "projector": dict(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5),
}
TABLE = '[data-testid="stTable"]'
OVERFLOW = """e => [e, ...e.querySelectorAll('*')]
    .filter(x => getComputedStyle(x).overflowX !== 'visible' && x.scrollWidth > x.clientWidth + 1)
    .map(x => `${x.tagName}.${x.className}: ${x.scrollWidth} > ${x.clientWidth}`)"""
# the page's own words in English, which the Chinese page must not show
ENGLISH = ("output stride", "what changed", "One click", "Configuration", "Swap", "new block type",
           "SE added",
           "kernel", "Export", "share)", "Estimated latency", "stem", "head")  # fmt: skip
# what the exported Chinese picture must say
CHINESE = ("输出步长", "设计变化", "加入 SE", "卷积核 3 → 5", "主干入口", "分类头", "A 总计")


def open_v2_v3(page, url: str):
    d = mc.diff("v2", "v3_large")
    page.goto(url)
    table = page.locator(TABLE).first
    # the 1/16 row's MACs difference, exactly as the library has it
    row = next(r for r in d.rows if r.key == "1/16")
    expect(table).to_contain_text(f"{row.d_macs:+,}", timeout=90000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot g.trace').length >= 3",
                           timeout=60000)  # fmt: skip
    page.locator(".gv-stage svg g.node").first.wait_for(timeout=60000)
    idle(page)
    return d, table


def download(page, name: str) -> bytes:
    with page.expect_download(timeout=60000) as info:
        page.locator(f".st-key-{name} button").click()
    return open(info.value.path(), "rb").read()


def check_svg(data: bytes, lang: str) -> tuple[float, float]:
    text = data.decode("utf-8")
    root = ET.fromstring(text)  # well-formed XML
    assert root.tag.endswith("svg")
    width, height = (float(re.match(r"[\d.]+", root.get(k)).group()) for k in ("width", "height"))
    assert width > 300 and height > 300
    assert len(root.findall(".//{http://www.w3.org/2000/svg}svg")) == 3  # table, waterfalls, networks
    words = CHINESE if lang == "zh" else ("output stride", "what changed", "SE added", "kernel 3 → 5")
    for word in words:
        assert word in text, word
    return width, height


def check_png(data: bytes, svg_size: tuple[float, float]) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    # 2x: 192 dpi against the SVG's 72 pt per inch (a screen draws 1 pt as 4/3 CSS px at 96 dpi)
    expected = svg_size[0] * 192 / 72
    assert abs(image.width - expected) / expected < 0.03, (image.size, svg_size)
    assert image.convert("L").getextrema()[0] < 100  # something dark is drawn on the white page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_diff_v2_v3_large_fits_exports_and_is_screenshotted(server, browser, lang):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, options in SIZES.items():
        context = browser.new_context(accept_downloads=True, **options)
        page = context.new_page()
        d, table = open_v2_v3(page, f"{server}/diff?a=v2&b=v3_large&lang={lang}")
        assert "a=v2" in page.url and "b=v3_large" in page.url
        assert table.evaluate(OVERFLOW) == [], f"{size}: the table is cut at the right"
        # every row is there, the changed ones shaded
        assert table.locator("tbody tr").count() == len(d.rows)
        assert page.locator('[data-testid="stException"]').count() == 0
        main = page.locator('[data-testid="stMain"]')
        text = main.text_content()
        if lang == "zh":
            left = [w for w in ENGLISH if w in text]
            assert not left, f"English in the Chinese page: {left}"
            for word in ("输出步长", "设计变化", "一键对比"):
                assert word in text
        width, height = page.viewport_size["width"], page.viewport_size["height"]
        page.mouse.move(width - 2, height // 2)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.screenshot(path=str(SHOTS / f"diff_{size}_{lang}.png"))
        table.evaluate("e => e.scrollIntoView({block: 'start', behavior: 'instant'})")
        page.screenshot(path=str(SHOTS / f"diff_{size}_table_{lang}.png"))
        page.locator(".js-plotly-plot").first.evaluate(
            "e => e.scrollIntoView({block: 'start', behavior: 'instant'})"
        )
        page.screenshot(path=str(SHOTS / f"diff_{size}_waterfall_{lang}.png"))
        page.locator(".gv-stage").evaluate("e => e.scrollIntoView({block: 'start', behavior: 'instant'})")
        page.screenshot(path=str(SHOTS / f"diff_{size}_graph_{lang}.png"))

        svg = download(page, "diff_export_svg")
        svg_size = check_svg(svg, lang)
        png = download(page, "diff_export_png")
        check_png(png, svg_size)
        if size == "1440":
            (SHOTS / f"diff_export_{lang}.svg").write_bytes(svg)
            (SHOTS / f"diff_export_{lang}.png").write_bytes(png)
        context.close()


def test_one_click_pair_and_link(server, browser):  # noqa: F811
    """A one-click pair sets both configurations and the link; the link alone reproduces them."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    open_v2_v3(page, f"{server}/diff?a=v2&b=v3_large")
    page.locator(".st-key-diff_pair_v4_conv_large_v5_base button").click()
    d = mc.diff("v4_conv_large", "v5_base")
    fusion = next(r for r in d.rows if r.kind == "fusion")
    table = page.locator(TABLE).first
    expect(table).to_contain_text(f"{fusion.d_macs:+,}", timeout=60000)
    page.wait_for_function("() => location.search.includes('b=v5_base')", timeout=120000)
    link = page.url
    assert "a=v4_conv_large" in link and "res_a=384" in link and "res_b=256" in link
    other = browser.new_page(viewport={"width": 1440, "height": 900})
    other.goto(link)
    expect(other.locator(TABLE).first).to_contain_text(f"{fusion.d_macs:+,}", timeout=90000)
    other.close()
    page.close()
