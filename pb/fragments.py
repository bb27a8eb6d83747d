"""Rendered pieces of pages that are the same for everyone who would see them, kept per process.

A template wraps such a piece in ``{% call fragment(key) %}...{% endcall %}``: the first request
renders it and keeps the HTML; the next ones with the same key reuse it. The key must name
everything the piece shows: the rows' versions (or the changing values themselves), the language,
and the viewer's permissions where the piece depends on them. A change to any of them is a new
key, so nothing is ever invalidated by hand; old entries fall out of the LRU (at most
``MAX_FRAGMENTS`` entries and ``MAX_BYTES`` of HTML per process: a card is about 1 kB, a whole
proposal page with its comments can be a hundred). Nothing per user (a CSRF token, a name, "you
support this") may go in a fragment.

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
MAX_BYTES = 48 * 1024 * 1024  # characters of HTML kept, whole pages included
_NEVER = datetime.max.replace(tzinfo=UTC)


class FragmentCache:
    def __init__(self, size: int = MAX_FRAGMENTS, max_bytes: int = MAX_BYTES) -> None:
        self.size, self.max_bytes = size, max_bytes
        self._entries: OrderedDict[Hashable, Markup] = OrderedDict()
        self._timed: OrderedDict[Hashable, tuple[datetime, datetime | None, Markup]] = OrderedDict()
        self._bytes = 0  # the length of all the HTML kept, in both maps
        self._lock = threading.Lock()

    def _trim(self) -> None:
        """Drop the least recently used entries past the count or the size (under the lock)."""
        while self._entries and (len(self._entries) > self.size or self._bytes > self.max_bytes):
            self._bytes -= len(self._entries.popitem(last=False)[1])
        while self._timed and (len(self._timed) > self.size or self._bytes > self.max_bytes):
            self._bytes -= len(self._timed.popitem(last=False)[1][2])

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
            previous = self._entries.pop(key, None)
            self._bytes += len(html) - (len(previous) if previous is not None else 0)
            self._entries[key] = html
            self._trim()
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
            previous = self._timed.pop(key, None)
            self._bytes += len(html) - (len(previous[2]) if previous is not None else 0)
            self._timed[key] = (now, until, html)
            self._trim()
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._timed.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def init_fragments(app) -> None:
    """Each application gets its own cache (tests build many apps on databases that reuse ids)."""
    cache = FragmentCache()
    app.extensions["pb.fragments"] = cache
    app.jinja_env.globals["fragment"] = cache
