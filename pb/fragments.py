"""Rendered pieces of pages that are the same for everyone who would see them, kept per process.

A template wraps such a piece in ``{% call fragment(key) %}...{% endcall %}``: the first request
renders it and keeps the HTML; the next ones with the same key reuse it. The key must name
everything the piece shows: the rows' versions (or the changing values themselves), the language,
and the viewer's permissions where the piece depends on them. A change to any of them is a new
key, so nothing is ever invalidated by hand; old entries fall out of the LRU (``MAX_FRAGMENTS`` per
process: at about 1 kB a fragment, some 16 MB at most). Nothing per user (a CSRF token, a name,
"you support this") may go in a fragment.

Pieces that also change with time (a list of cycles shows which phase each is in) are kept with
:meth:`FragmentCache.keep` until the next moment they change by themselves, and read back with
:meth:`FragmentCache.kept`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

from markupsafe import Markup

MAX_FRAGMENTS = 16_384  # every card of a few large cycles in both languages
_NEVER = datetime.max.replace(tzinfo=UTC)


class FragmentCache:
    def __init__(self, size: int = MAX_FRAGMENTS) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Markup] = OrderedDict()
        self._timed: OrderedDict[Hashable, tuple[datetime, datetime | None, Markup]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key: Hashable, caller: Callable[[], str]) -> Markup:
        if key is None:  # a piece that is kept for some viewers only, rendered for another
            return Markup(caller())
        html = self.get(key)
        if html is not None:
            return html
        html = Markup(caller())
        if not html.strip():  # nothing to show (a row gone meanwhile): not kept, so it cannot stick
            return html
        with self._lock:
            self._entries[key] = html
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html

    def get(self, key: Hashable) -> Markup | None:
        """The piece kept under ``key``, if there is one (a view that can skip loading what it is made of)."""
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
            return html

    def kept(self, key: Hashable, now: datetime) -> Markup | None:
        """A piece kept with :meth:`keep`, if ``now`` is within the time it holds for."""
        with self._lock:
            entry = self._timed.get(key)
            if entry is None:
                return None
            made_at, until, html = entry
            if not made_at <= now < (until or _NEVER):  # a clock set back (tests) renders again
                return None
            self._timed.move_to_end(key)
            return html

    def keep(self, key: Hashable, html: str, *, now: datetime, until: datetime | None) -> Markup:
        """Keep ``html`` under ``key`` from ``now`` until ``until`` (None: until the key changes).

        For pieces that also change with the clock (which phase each cycle is in): ``until`` is the
        next moment anything on them changes by itself, such as a phase starting."""
        html = Markup(html)
        with self._lock:
            self._timed[key] = (now, until, html)
            self._timed.move_to_end(key)
            if len(self._timed) > self.size:
                self._timed.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._timed.clear()

    def __len__(self) -> int:
        return len(self._entries)


def init_fragments(app) -> None:
    """Each application gets its own cache (tests build many apps on databases that reuse ids)."""
    cache = FragmentCache()
    app.extensions["pb.fragments"] = cache
    app.jinja_env.globals["fragment"] = cache
