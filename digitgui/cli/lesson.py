"""``digitgui lesson``: one of the app's lessons (a few runs that differ in one thing), run
headless with ``compare``'s queue, then what the result means."""

from __future__ import annotations

import argparse
import json
import textwrap

from .compare import add_queue_arguments, print_results, run_queue


def add_parser(sub) -> None:
    from ..core.lessons import LESSONS

    les = sub.add_parser(
        "lesson",
        help="run one of the app's lessons headless (no KEY: list them)",
        description="Run a lesson's training runs one after another, print how they compare "
        "and what it means. Without KEY, list the lessons.",
    )
    les.add_argument("key", nargs="?", choices=[x.key for x in LESSONS], metavar="KEY")
    add_queue_arguments(les)


def run(args: argparse.Namespace) -> int:
    from ..core.lessons import LESSONS, lesson, summarize

    if args.key is None:
        for item in LESSONS:
            if args.json:
                print(json.dumps({"key": item.key, "title": item.title, "runs": len(item.runs)}))
            else:
                print(f"{item.key:15} {item.title}")
        return 0
    item = lesson(args.key)
    if not args.json:
        print(f"{item.title}\n{item.question}\n")
    jobs = [(name, config, {}) for name, config in item.runs]
    done = run_queue(jobs, args, lesson=item.key, handwriting=item.handwriting)
    summary = summarize(item, [run for run, _, _ in done])
    if args.json:
        print(json.dumps({"lesson": item.key, "summary": summary}))
        return 0
    print_results(done, args)
    print()
    print(textwrap.fill(summary, width=100))
    return 0
