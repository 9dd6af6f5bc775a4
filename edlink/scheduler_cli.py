"""``edlink scheduler`` (the scheduler in a process of its own) and ``edlink run --with-scheduler``
(Flask's development server with the scheduler in a background thread, for a single machine)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs on their schedules until stopped (Ctrl-C or SIGTERM).

    Start as many as you like: only the holder of the lease in the database runs jobs, and
    another takes over when it stops (EDLINK_SCHEDULER_LEASE_SECONDS).
    """
    import logging
    import signal

    from edlink.scheduler import Runtime
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    runtime = Runtime(current_app._get_current_object(), blocking=True)
    runtime.scheduler.heartbeat()  # here, not in a thread: a database that is not ready stops the command
    _announce(runtime, "this process")

    def _stop(_signum, _frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        runtime.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runtime.shutdown()
        signal.signal(signal.SIGTERM, previous)
    click.echo(f"scheduler {runtime.holder} stopped; lease handed back")


def _announce(runtime, where: str) -> None:
    from edlink.schedule import configured
    app = runtime.scheduler.app
    click.echo(f"scheduler {runtime.holder} in {where} (lease {app.config['SCHEDULER_LEASE_SECONDS']} s, "
               f"looks for due jobs every {app.config['SCHEDULER_TICK_SECONDS']} s):")
    for name, schedule in sorted(runtime.scheduler.schedules.items()):
        click.echo(f"  {name:<26} {schedule.describe()}")
    unknown = sorted(set(configured(app.config)) - set(runtime.scheduler.schedules))
    if unknown:
        click.echo(f"  warning: EDLINK_JOB_SCHEDULE names jobs that do not exist: {', '.join(unknown)}", err=True)


def _run_web(with_scheduler: bool, **options):
    """Flask's ``run``; with --with-scheduler, the scheduler too, in a background thread."""
    from flask.cli import ScriptInfo, get_debug_flag
    from flask.cli import run_command as flask_run
    from werkzeug.serving import is_running_from_reloader

    ctx = click.get_current_context()
    reload = options.get("reload")
    reloading = reload if reload is not None else get_debug_flag()
    # With the reloader, this command runs twice: in the watcher and in the server child. Only
    # the child serves, so only the child starts the scheduler.
    if with_scheduler and (not reloading or is_running_from_reloader()):
        import atexit

        from edlink.scheduler import Runtime
        runtime = Runtime(ctx.ensure_object(ScriptInfo).load_app(), blocking=False)
        _announce(runtime, "the web process")
        runtime.start()
        atexit.register(runtime.shutdown)
    return ctx.invoke(flask_run, **options)


def web_run_command() -> click.Command:
    from flask.cli import run_command as flask_run
    return click.Command(
        "run", callback=_run_web, help=flask_run.help, short_help=flask_run.short_help,
        params=[*flask_run.params, click.Option(
            ["--with-scheduler/--without-scheduler"], default=False, show_default=True,
            help="Also run the scheduler in this process (a single machine; `make run` does).")])
