"""Fair scheduling across runs (pure): one FIFO queue per run, served round-robin.

The dispatcher of a pool pops the next item from the next run in rotation whose endpoint may take a
request now; a run that was served moves to the back. So when several teams' runs share a pool,
each gets one request in turn, whatever the sizes of the runs or the order they arrived in.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class FairQueue(Generic[K, T]):
    def __init__(self) -> None:
        self._queues: OrderedDict[K, deque[T]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def pending(self, key: K) -> int:
        queue = self._queues.get(key)
        return len(queue) if queue else 0

    def keys(self) -> list[K]:
        return [key for key, queue in self._queues.items() if queue]

    def push(self, key: K, item: T, *, front: bool = False) -> None:
        """Queue ``item`` for ``key``; ``front`` puts it first (a retried item keeps its turn)."""
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
        if front:
            queue.appendleft(item)
        else:
            queue.append(item)
        self._size += 1

    def extend(self, key: K, items: Iterable[T]) -> None:
        for item in items:
            self.push(key, item)

    def pop(self, eligible: Callable[[K], bool] = lambda _key: True) -> tuple[K, T] | None:
        """The next item of the first run in rotation that has one and is eligible; None if none."""
        for key, queue in self._queues.items():
            if queue and eligible(key):
                item = queue.popleft()
                self._size -= 1
                if queue:
                    self._queues.move_to_end(key)
                else:
                    del self._queues[key]
                return key, item
        return None

    def drop(self, key: K) -> list[T]:
        """Remove every queued item of ``key`` (its chunks were released); returns them."""
        queue = self._queues.pop(key, None)
        items = list(queue) if queue else []
        self._size -= len(items)
        return items
