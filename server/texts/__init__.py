"""Words of the follow-up features, one module per feature, Vietnamese first: key -> (vi, en).

Each module may define MESSAGES (error messages, server/i18n.py), LABELS (field labels), UI (public
pages, server/ui_text.py) and STAFF (staff screens, server/staff_text.py), and STAFF_JS_PREFIXES
(the STAFF keys the staff scripts need). They are merged into the main tables at import; a key
defined twice fails the import, so two features cannot quietly overwrite each other's words."""

from __future__ import annotations

from types import ModuleType

from . import (
    calendar,
    followup,
    forum,
    hls,
    master,
    notify,
    officer_intake,
    privacy,
    publication,
    recording,
    reports,
    responder,
)

FEATURES: tuple[ModuleType, ...] = (calendar, followup, forum, notify, officer_intake, privacy, publication, recording,
                                    reports, responder, master, hls)


def merged(name: str, base: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """`base` with every feature's table `name` added; a key defined twice is an error."""
    out = dict(base)
    for feature in FEATURES:
        for key, pair in getattr(feature, name, {}).items():
            if key in out and out[key] == pair:
                continue  # the same words for the same field (e.g. "as_of" in two features)
            if key in out:
                raise KeyError(f"text key {key!r} of server/texts/{feature.__name__.rsplit('.', 1)[-1]}.py "
                               f"is already defined")
            out[key] = pair
    return out


def staff_js_prefixes() -> tuple[str, ...]:
    return tuple(p for feature in FEATURES for p in getattr(feature, "STAFF_JS_PREFIXES", ()))
