"""vgrad-tui's exit statuses (the README's table): one home for the CLI, the apps and main()."""

OK = 0
FAILED = 1        # a net's worker failed, a recording is incomplete, or an internal error
BAD_INPUT = 2     # bad usage or input, with a one-line reason, before any work starts
HANGUP = 129      # 128 + SIGHUP: the terminal went away (an SSH drop); the recording is complete
INTERRUPTED = 130  # 128 + SIGINT: Ctrl+C, SIGINT or SIGTERM; the recording is complete
CLOSED_PIPE = 141  # 128 + SIGPIPE, as `yes | head -1` gives: the reader of stdout went away
