"""The progress bar of long fits: tqdm's, which knows terminals, log files and notebooks."""

import sys

from tqdm.auto import tqdm


class Progress:
    """A bar of ``total`` iterations with the current figures (objective, ...) beside it.

    Built on ``tqdm.auto``: a refreshed line in a terminal, a widget in a Jupyter
    notebook. When the stream is not a terminal (a log file, a CI log) the bar is
    redrawn at most every ``log_interval`` seconds and once at the end, so a log gets a
    few lines, not thousands of carriage returns.

    Parameters
    ----------
    total : int
        Number of iterations the bar spans (``max_iter``).
    desc : str, default="fit"
        Label shown before the bar.
    stream : file-like, optional
        Where the bar is written; default ``sys.stderr``.
    min_interval : float, default=0.1
        Seconds between redraws on a terminal.
    log_interval : float, default=10.0
        Seconds between redraws when ``stream`` is not a terminal.
    """

    def __init__(self, total, desc="fit", stream=None, min_interval=0.1, log_interval=10.0):
        stream = stream if stream is not None else sys.stderr
        is_tty = hasattr(stream, "isatty") and stream.isatty()
        self._bar = tqdm(total=total, desc=desc, file=stream, leave=True,
                         mininterval=min_interval if is_tty else log_interval,
                         dynamic_ncols=is_tty)

    def update(self, it, **info):
        """Move the bar to an iteration and show the current figures beside it.

        Parameters
        ----------
        it : int
            The iteration reached.
        **info
            Name -> value shown after the bar (floats with 6 significant digits).
        """
        self._bar.set_postfix({k: (f"{v:.6g}" if isinstance(v, float) else v)
                               for k, v in info.items()}, refresh=False)
        self._bar.update(it - self._bar.n)

    def close(self, message=""):
        """Finish the bar, drawn in its final state.

        Parameters
        ----------
        message : str, default ""
            Shown after the figures (e.g. ``"converged"``).
        """
        if message:
            postfix = self._bar.postfix
            self._bar.set_postfix_str(f"{postfix}, {message}" if postfix else message,
                                      refresh=False)
        self._bar.close()
