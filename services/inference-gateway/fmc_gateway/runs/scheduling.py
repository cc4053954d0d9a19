"""Fair scheduling across teams, then across a team's runs (pure): two-level round-robin.

Each run has its own FIFO queue, and belongs to a group (its team). The dispatcher of a pool pops
the next item of the next team in rotation, and within that team the next of its runs in rotation,
skipping any run whose endpoint may not take a request now. A team that was served moves to the
back of the teams, and its run to the back of that team's runs. So when several teams share a pool
each gets one request in turn, however many runs it has: a team with four runs shares one turn
among them, and a team with one run gets the same number of turns as the team with four.

A key pushed without a group is its own group (every run alone: round-robin per run).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class FairQueue(Generic[K, T]):
    def __init__(self) -> None:
        # group -> its keys in rotation -> each key's items; no empty deque or group is kept.
        self._groups: OrderedDict[Hashable, OrderedDict[K, deque[T]]] = OrderedDict()
        self._group_of: dict[K, Hashable] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def pending(self, key: K) -> int:
        group = self._group_of.get(key)
        return 0 if group is None else len(self._groups[group][key])

    def keys(self) -> list[K]:
        return [key for keys in self._groups.values() for key in keys]

    def groups(self) -> list[Hashable]:
        return list(self._groups)

    def push(self, key: K, item: T, *, group: Hashable | None = None, front: bool = False) -> None:
        """Queue ``item`` for ``key`` (in ``group``, default: its own); ``front`` puts it first
        (a retried item keeps its turn). A key queued already stays in the group it was queued in."""
        current = self._group_of.get(key)
        if current is None:
            current = self._group_of[key] = key if group is None else group
            keys = self._groups.get(current)
            if keys is None:
                keys = self._groups[current] = OrderedDict()
            queue = keys[key] = deque()
        else:
            queue = self._groups[current][key]
        if front:
            queue.appendleft(item)
        else:
            queue.append(item)
        self._size += 1

    def extend(self, key: K, items: Iterable[T], *, group: Hashable | None = None) -> None:
        for item in items:
            self.push(key, item, group=group)

    def pop(self, eligible: Callable[[K], bool] = lambda _key: True) -> tuple[K, T] | None:
        """The next item of the first eligible run of the first team in rotation that has one."""
        for group, keys in self._groups.items():
            for key, queue in keys.items():
                if not eligible(key):
                    continue
                item = queue.popleft()
                self._size -= 1
                if queue:
                    keys.move_to_end(key)
                else:
                    del keys[key]
                    del self._group_of[key]
                if keys:
                    self._groups.move_to_end(group)
                else:
                    del self._groups[group]
                return key, item
        return None

    def drop(self, key: K) -> list[T]:
        """Remove every queued item of ``key`` (its chunks were released); returns them."""
        group = self._group_of.pop(key, None)
        if group is None:
            return []
        keys = self._groups[group]
        items = list(keys.pop(key))
        if not keys:
            del self._groups[group]
        self._size -= len(items)
        return items
