"""The house style: one seaborn theme, a calm palette and a font that has Chinese glyphs.

Nothing here runs at import time.  Apply the theme explicitly, once per notebook::

    import xzlib.theme
    xzlib.theme.set_theme()              # seaborn theme + CJK font, changes rcParams

or locally, restoring every rcParam afterwards::

    with xzlib.theme.theme():
        xz.plots.profile(scores, street="440402001")

The CJK font is found when first asked for (:func:`cjk_font_path`), in this order:

1. ``$XZ_CJK_FONT``, a path to a font file, if set;
2. a system font known to matplotlib's font manager, by family: Noto Sans CJK SC,
   Noto Sans SC, Source Han Sans SC/CN, PingFang SC, Microsoft YaHei, SimHei,
   WenQuanYi Micro Hei, WenQuanYi Zen Hei (then font files of those families that the
   font manager's cache does not know yet);
3. Noto Sans SC (SIL Open Font License 1.1, from Google's and Adobe's Noto CJK project)
   shipped by the PyPI package ``pylopdf-fonts-zh-cn`` (a dependency of xzlib, 20 MB
   installed), so that a bare Python machine draws Chinese too (``docs/assets.md``).

Every candidate is checked to contain the glyphs of :data:`PROBE`.  The font is
registered with ``matplotlib.font_manager.fontManager.addfont`` when asked for; the
user's ``matplotlibrc`` is never read or written.

Plot functions in :mod:`xzlib.plots` do not need :func:`set_theme`: when the active
rcParams cannot draw Chinese they set the CJK font on their own Axes' texts
(:func:`apply_font`), leaving rcParams alone.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import UsageError, XzError

__all__ = [
    "PALETTE",
    "HIGHLIGHT",
    "NEUTRAL",
    "BAND",
    "MEDIAN",
    "CJK_FAMILIES",
    "PROBE",
    "palette",
    "cjk_font",
    "cjk_font_path",
    "cjk_family",
    "apply_font",
    "set_theme",
    "theme",
]

logger = logging.getLogger(__name__)

#: The colour of "this street" in every chart, and of nothing else (vermilion; prints
#: as a dark grey).
HIGHLIGHT = "#C0392B"
#: Other streets / communities.
NEUTRAL = "#8E9AA6"
#: Bands: district range, ±1 SD.
BAND = "#DCE2E8"
#: District median lines and markers.
MEDIAN = "#44505C"
#: Categorical palette: calm, distinguishable in greyscale print; no red, which is
#: reserved for :data:`HIGHLIGHT`.
PALETTE = ("#3E6D9C", "#E1A340", "#6A9A7B", "#8A6FA8", "#5FA8BF", "#A0876C", "#9AA5B1")

#: System font families tried, in order of preference.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)
# Font files of those families, for fonts installed after matplotlib cached its list.
_CJK_FILE_HINTS = (
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "pingfang",
    "msyh",
    "simhei",
    "wqy-microhei",
    "wqy-zenhei",
)
# Fonts shipped by PyPI packages: (import name, file inside the package).  Noto Sans SC
# 2.004, one face (the Simplified Chinese glyph forms), OFL-1.1; see docs/assets.md.
_PACKAGED_FONTS = (("pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf"),)

#: Characters a CJK font must have to be used.
PROBE = "香洲区社会治理网格员议事协商微公益创投街道社区"

_FALLBACK = "DejaVu Sans"  # ships with matplotlib: Latin, digits, symbols


def palette(n: int | None = None) -> list[str]:
    """Return the categorical palette (hex colours), cycled to ``n`` colours if given."""
    if n is None:
        return list(PALETTE)
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


# ----------------------------------------------------------------------------- fonts


@functools.lru_cache(maxsize=64)
def _covers(path: str, face_index: int = 0, probe: str = PROBE) -> bool:
    """Whether the font face at ``path`` has a glyph for every character of ``probe``."""
    try:
        charmap = _open_face(path, face_index).get_charmap()
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        logger.debug("cannot read font %s: %s", path, exc)
        return False
    return all(ord(c) in charmap for c in probe)


def _open_face(path: str, face_index: int = 0):
    """FT2Font of one face of a font file (``face_index`` needs matplotlib 3.10)."""
    from matplotlib import ft2font

    if face_index:
        return ft2font.FT2Font(path, face_index=face_index)
    return ft2font.FT2Font(path)


def _face_family(path: str, face_index: int = 0) -> str:
    from matplotlib import font_manager

    return font_manager.ttfFontProperty(_open_face(path, face_index)).name


@functools.lru_cache(maxsize=1)
def _discover() -> tuple[str, int, str]:
    """Find a CJK font: ``(path, face_index, family)``; cached for the process."""
    from matplotlib import font_manager

    env = os.environ.get("XZ_CJK_FONT")
    if env:
        path = str(Path(env).expanduser())
        if Path(path).is_file() and _covers(path):
            return path, 0, _face_family(path)
        logger.warning("XZ_CJK_FONT=%s is not a font with Chinese glyphs; ignored", env)

    # 2a. families matplotlib already knows (regular weight and upright first)
    entries = font_manager.fontManager.ttflist
    for family in CJK_FAMILIES:
        faces = [f for f in entries if f.name == family]
        faces.sort(key=lambda f: (f.style != "normal", abs(_weight(f.weight) - 400)))
        for f in faces:
            index = getattr(f, "index", 0) or 0
            if _covers(f.fname, index):
                return f.fname, index, family

    # 2b. font files installed after matplotlib cached its font list
    try:
        files = font_manager.findSystemFonts()
    except Exception as exc:  # noqa: BLE001 - a broken fc-list must not stop plotting
        logger.debug("findSystemFonts failed: %s", exc)
        files = []
    ranked = []
    for path in files:
        stem = Path(path).name.lower().replace("_", "-")
        for rank, hint in enumerate(_CJK_FILE_HINTS):
            if hint in stem.replace(" ", ""):
                bold = any(w in stem for w in ("bold", "black", "heavy", "light", "thin"))
                ranked.append((rank, bold, path))
                break
    for _, _, path in sorted(ranked):
        faces = [(i, _face_family(path, i)) for i in _faces(path) if _covers(path, i)]
        # a collection (Noto Sans CJK .ttc) has JP, KR, SC, TC faces: prefer SC
        faces.sort(
            key=lambda f: CJK_FAMILIES.index(f[1]) if f[1] in CJK_FAMILIES else len(CJK_FAMILIES)
        )
        if faces:
            return path, faces[0][0], faces[0][1]

    # 3. a font shipped by a Python package
    for package, relative in _PACKAGED_FONTS:
        try:
            found = importlib.resources.files(package) / relative
        except ModuleNotFoundError:
            continue
        path = str(found)
        if isinstance(found, Path) and found.is_file() and _covers(path):
            return path, 0, _face_family(path)

    raise XzError(
        "no font with Chinese glyphs found: install the Python package "
        "`pylopdf-fonts-zh-cn` (a dependency of xzlib), a system CJK font "
        "(Debian: apt-get install fonts-noto-cjk), or set XZ_CJK_FONT to a font file"
    )


def _weight(w) -> int:
    if isinstance(w, int | float):
        return int(w)
    from matplotlib import font_manager

    return int(font_manager.weight_dict.get(str(w), 400))


def _faces(path: str) -> range:
    from matplotlib import ft2font

    try:
        return range(ft2font.FT2Font(path).num_faces)
    except (OSError, RuntimeError, ValueError):
        return range(0)


def _register(path: str, face_index: int, family: str) -> None:
    """Make ``family`` known to matplotlib's font manager (idempotent)."""
    from matplotlib import font_manager

    fm = font_manager.fontManager
    known = any(
        f.name == family and os.path.realpath(f.fname) == os.path.realpath(path) for f in fm.ttflist
    )
    if not known:
        fm.addfont(path)
        logger.debug("registered CJK font %s (%s)", family, path)


def cjk_font_path() -> Path:
    """Return the path of the CJK font file used by the house style.

    Returns
    -------
    pathlib.Path
        The font file (``.ttf``, ``.otf`` or ``.ttc``).

    Raises
    ------
    XzError
        If no font with Chinese glyphs can be found (see the module docstring).
    """
    return Path(_discover()[0])


def cjk_family() -> str:
    """Return the family name of the CJK font, registering it with matplotlib.

    Returns
    -------
    str
        E.g. ``"Noto Sans CJK SC"`` or ``"WenQuanYi Micro Hei"``.

    Raises
    ------
    XzError
        If no font with Chinese glyphs can be found.
    """
    path, index, family = _discover()
    _register(path, index, family)
    return family


def cjk_font(size: float | str | None = None):
    """Return :class:`~matplotlib.font_manager.FontProperties` for the CJK font.

    The font is registered with matplotlib's font manager first, so the properties can
    be passed as ``fontproperties=`` to any text; Latin glyphs the CJK font lacks come
    from DejaVu Sans.

    Parameters
    ----------
    size : float or str, optional
        Font size; default the rcParams size.

    Returns
    -------
    matplotlib.font_manager.FontProperties

    Examples
    --------
    >>> ax.set_title("香洲区", fontproperties=cjk_font())  # doctest: +SKIP
    """
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=[cjk_family(), _FALLBACK], size=size)


def _rc_draws_cjk() -> bool:
    """Whether the active rcParams font families can draw :data:`PROBE`."""
    import matplotlib as mpl
    from matplotlib import font_manager

    generic = {"sans-serif", "serif", "monospace", "cursive", "fantasy"}
    names: list[str] = []
    for fam in mpl.rcParams["font.family"]:
        names.extend(mpl.rcParams[f"font.{fam}"] if fam in generic else [fam])
    by_name: dict[str, list] = {}
    for f in font_manager.fontManager.ttflist:
        by_name.setdefault(f.name, []).append(f)
    for name in names:
        for f in by_name.get(name, []):
            if _covers(f.fname, getattr(f, "index", 0) or 0):
                return True
    return False


def apply_font(ax):
    """Set the CJK font on the texts of ``ax`` if the active rcParams cannot draw Chinese.

    Covers the titles, axis labels, tick labels (also ticks created later), legend and
    annotations.  rcParams are not changed.  Call it after the Axes is drawn into.

    Parameters
    ----------
    ax : matplotlib.axes.Axes

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    if _rc_draws_cjk():
        return ax
    from matplotlib.text import Text

    family = [cjk_family(), _FALLBACK]

    # the three titles and every text drawn on the Axes are its Text children
    texts = [c for c in ax.get_children() if isinstance(c, Text)]
    texts += [ax.xaxis.label, ax.yaxis.label]
    legend = ax.get_legend()
    if legend is not None:
        texts += [*legend.get_texts(), legend.get_title()]
    for text in texts:
        text.set_fontfamily(family)
    ax.tick_params(axis="both", which="both", labelfontfamily=family)
    return ax


# ----------------------------------------------------------------------------- theme

_CONTEXTS = ("paper", "notebook", "talk", "poster")


def _rc(family: str) -> dict:
    import matplotlib as mpl

    sans = [family, _FALLBACK] + [
        f for f in mpl.rcParamsDefault["font.sans-serif"] if f != _FALLBACK
    ]
    ink, grid = "#2B2F33", "#E6E9EC"
    return {
        "font.family": ["sans-serif"],
        "font.sans-serif": sans,
        "axes.unicode_minus": True,  # U+2212 falls back to DejaVu Sans if the CJK font lacks it
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#B8C0C8",
        "axes.labelcolor": ink,
        "axes.titlelocation": "left",
        "axes.titleweight": "normal",  # CJK fonts often lack a bold face
        "axes.grid": True,
        "grid.color": grid,
        "text.color": ink,
        "xtick.color": "#5A6570",
        "ytick.color": "#5A6570",
        "legend.frameon": False,
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": "figure",
        "savefig.facecolor": "white",
        "svg.fonttype": "path",
        "patch.edgecolor": "none",
        # Glyph outlines as designed, not grid-fitted: looks the same on charts that are
        # scaled on screen anyway (a phone shows a 640 px chart at ~340 px), and text is
        # about 40% quicker to lay out and draw (a report draws some 700 texts).
        "text.hinting": "no_hinting",
    }


def set_theme(
    context: str = "notebook", *, font_scale: float = 1.0, rc: dict | None = None
) -> None:
    """Apply the house theme: seaborn ``whitegrid``, the palette and the CJK font.

    Changes matplotlib's rcParams for the session (use :func:`theme` for a local change).
    Never called on import.

    Parameters
    ----------
    context : {"paper", "notebook", "talk", "poster"}
        seaborn plotting context (sizes of fonts and lines).
    font_scale : float
        Extra scaling of font sizes.
    rc : dict, optional
        rcParams that override the theme's.

    Raises
    ------
    UsageError
        If ``context`` is not one of the choices.
    XzError
        If no CJK font can be found.

    Examples
    --------
    >>> import xzlib.theme
    >>> xzlib.theme.set_theme()  # doctest: +SKIP
    """
    if context not in _CONTEXTS:
        raise UsageError(
            f"`context` must be one of {', '.join(map(repr, _CONTEXTS))}, not {context!r}"
        )
    import seaborn as sns

    family = cjk_family()
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=list(PALETTE),
        font="sans-serif",
        font_scale=font_scale,
        rc={**_rc(family), **(rc or {})},
    )
    logger.debug("house theme applied (context=%s, font=%s)", context, family)


@contextlib.contextmanager
def theme(
    context: str = "notebook", *, font_scale: float = 1.0, rc: dict | None = None
) -> Iterator[None]:
    """Apply the house theme inside a ``with`` block and restore rcParams after it.

    Parameters are those of :func:`set_theme`.

    Examples
    --------
    >>> with theme("paper"):  # doctest: +SKIP
    ...     ax = xz.plots.trend(df, y="score", street="440402001")
    ...     ax.figure.savefig("trend.png")
    """
    import matplotlib as mpl

    with mpl.rc_context():
        set_theme(context, font_scale=font_scale, rc=rc)
        yield
