"""`schemagen` and `python -m jarvis_schemagen`: the command line, with Ctrl-C during start-up (while
click and the CLI are imported) reported like Ctrl-C later on, in one line with exit 2."""
import sys


def run() -> None:
    try:
        from .cli import main
    except KeyboardInterrupt:
        sys.stderr.write("schemagen: interrupted\n")
        sys.exit(2)
    main(prog_name="schemagen")


if __name__ == "__main__":
    run()
