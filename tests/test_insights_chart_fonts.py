"""Chart labels in the PDF reports print CJK and emoji: matplotlib finds a glyph for every character
(no "Glyph ... missing from font(s)" warning, which is what a box in the chart means) (issue 20)."""

import io
import warnings

import matplotlib.pyplot as plt
from PIL import Image

from brandpulse.reports.pdf import png, trend_figure, value_bar_figure

LABELS = ["@東京の猫", "@소비자", "@fan 😡🔥", "@plain"]


def _missing(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = draw()
    assert Image.open(io.BytesIO(image)).size[0] > 500
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_cjk_and_emoji_labels_find_their_glyphs_in_every_chart():
    assert not _missing(lambda: png(value_bar_figure(LABELS, [40, 30, 20, 10], "Top influencers 東京",
                                                     unit="%", axis_title="score 😡")))
    assert not _missing(lambda: png(trend_figure(["5月1日", "5月2日", "5月3日"], [3, 9, 4], "話題 🔥 per day",
                                                 marks=[(1, "アラート 🚨")], axis_title="mentions")))


def test_the_default_fonts_would_have_missed_them():  # what the reports drew before: boxes
    def plain() -> bytes:
        figure, axis = plt.subplots()
        axis.barh(LABELS, [4, 3, 2, 1])
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        return buffer.getvalue()
    assert any("東" in message or "26481" in message for message in _missing(plain))
