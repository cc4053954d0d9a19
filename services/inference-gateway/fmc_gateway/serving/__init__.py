"""Serving conventions: how the gateway builds a request for a model and reads its answer (pure).

One adapter per ``ServingConvention`` (docs/triton-contract.md), behind the small ``Convention``
protocol: check a model's signature against the convention's rules, build the request for one item
and the run's decoding parameters, and read the answer's text and token counts (``None`` when the
convention does not return them: never invented).
"""
