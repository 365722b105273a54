"""Boende's services: the doors (``http``, ``cli``, ``kafka``), the one
composition root (``bootstrap``) and the capabilities behind them
(``submission``, ``audit``, ``privacy``, ``projecting``, ``reporting``,
``simulation``). Arrows point down only; ``make lint`` checks it."""
