"""Runs one tap script for tapline: calls its fetch() and streams the records out.

Started by spawn.ts as `python -u -B harness.py <config json>` in a fresh working directory
that holds the script as tap.py. Pipes:
  fd 1 and 2  the script's prints (fd 2 is pointed at fd 1 so the two interleave in order)
  fd 3        records, one JSON object per line (NDJSON)
  fd 4        control: one JSON line at the end, {"type": "done", ...} or {"type": "error", ...}

Values json cannot write become JSON by this rule, applied only when plain json.dumps fails:
  datetime, date, time -> isoformat() text      Decimal -> str() (exact digits)
  UUID -> str()                                 bytes, bytearray, memoryview -> base64 text
  set, frozenset -> list (sorted when sortable) tuple -> list
  NaN, Infinity, -Infinity -> null              other integral numbers (numpy.int64) -> int
  other real numbers (numpy.float32) -> float   anything else -> str(value)
  dict keys json cannot write -> the same rule; a result that is not text -> its JSON text
Integers of any size are written exact.

Kept to the standard library and few imports: every import here is latency on every test run.
"""

import json
import os
import sys

SCRIPT_FILE = "tap.py"
# errno.EFBIG on Linux and macOS; the errno module is one import fewer on every run.
_EFBIG = 27
TRACEBACK_FRAMES = 5
# Address space above the memory limit that only the harness uses: after a MemoryError it
# raises its soft limit to the hard one to build and send its report. A script can take this
# margin too, and no more.
MEMORY_MARGIN = 32 * 1024 * 1024
# <linux/capability.h>, <linux/prctl.h>
CAP_SYS_RESOURCE = 24
PR_CAPBSET_DROP = 24
CAPABILITY_VERSION_3 = 0x20080522


class TapError(Exception):
    """An expected failure with a failure kind spawn.ts understands."""

    def __init__(self, kind, message, **extra):
        Exception.__init__(self, message)
        self.kind = kind
        self.extra = extra


def _refuse(value):
    raise TypeError("not JSON")


def _fast_encoder():
    """json's C encoder, built once: JSONEncoder.encode rebuilds it for every record."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            chunks = make(None, _refuse, json.encoder.encode_basestring, None, ":", ",",
                          False, False, False)
            join = "".join

            def encode(value):
                return join(chunks(value, 0))

            if encode({"a": [1, "\u00e9"]}) == '{"a":[1,"\u00e9"]}':
                return encode
        except Exception:
            pass
    return json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


_encode_fast = _fast_encoder()
_encode_ascii = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode


def to_json(value):
    """JSON text of a value, by the rule in the module docstring."""
    try:
        return _encode_fast(value)
    except (TypeError, ValueError):
        return _encode_fast(plain(value))


def to_json_bytes(value):
    text = to_json(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8; escaped as \\udXXX they are still valid JSON.
        return _encode_ascii(plain(value)).encode("ascii")


def plain(value):
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if value - value == 0 else None
    if isinstance(value, dict):
        return {plain_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [plain(v) for v in value]
        try:
            items.sort()
        except TypeError:
            pass
        return items
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64

        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return str(value)
    # A value can only be an instance of a class whose module is already loaded, so looking
    # the modules up (instead of importing them) keeps the common path free of imports.
    datetime = sys.modules.get("datetime")
    if datetime and isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    decimal = sys.modules.get("decimal")
    if decimal and isinstance(value, decimal.Decimal):
        return str(value)
    uuid = sys.modules.get("uuid")
    if uuid and isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, int):
        return int(value)
    import numbers

    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if number - number == 0 else None
    return str(value)


def plain_key(key):
    if key is None or isinstance(key, (str, int, float, bool)):
        return key
    converted = plain(key)
    return converted if isinstance(converted, str) else to_json(converted)


def column_name(key):
    """The text json gives a dict key, so columns match the keys in the record lines."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        text = to_json(key)
        return text if text != "null" else float.__repr__(key)
    return plain_key(key)


class RecordWriter:
    """Writes records to fd 3 and keeps the count, columns and data type."""

    def __init__(self, config):
        self.out = open(3, "wb", buffering=1 << 16)
        self.max_bytes = config["maxRecordBytes"]
        self.document = config["kind"] == "document"
        self.count = 0
        self.columns = {}
        self.data_type = None
        self.header = None

    def item(self, item):
        """Takes one item fetch() produced; returns False when it was a header row."""
        if isinstance(item, dict):
            if self.data_type == "csv":
                raise self.mixed("a dict", "row lists")
            self.data_type = "document" if self.document else "json"
            if self.document:
                check_document(item, self.count + 1)
            self.write(item)
            return True
        if isinstance(item, (list, tuple)):
            if self.data_type is not None and self.data_type != "csv":
                raise self.mixed("a row list", "dicts")
            if self.document:
                raise TapError(
                    "bad_output",
                    "a document tap must produce dicts with uri, filename and content or text; "
                    "fetch() produced a row list",
                )
            self.data_type = "csv"
            if self.header is None:
                self.header = [column_name(plain(name)) for name in item]
                for name in self.header:
                    self.columns[name] = None
                return False
            self.write(self.row(item))
            return True
        raise TapError(
            "bad_output",
            "fetch() produced a %s (record %d); records must be dicts, or lists of rows whose "
            "first row is the header" % (type(item).__name__, self.count + 1),
        )

    def row(self, values):
        header = self.header
        if len(values) > len(header):
            raise TapError(
                "bad_output",
                "row %d has %d values but the header row has %d columns"
                % (self.count + 1, len(values), len(header)),
            )
        record = dict(zip(header, values))
        for name in header[len(values) :]:
            record[name] = None
        return record

    def mixed(self, got, before):
        return TapError(
            "bad_output",
            "fetch() produced %s after %s (record %d); a tap returns either dicts or row lists"
            % (got, before, self.count + 1),
        )

    def write(self, record):
        line = to_json_bytes(record)
        size = len(line)
        if size > self.max_bytes:
            raise TapError("record_too_large", "", record=self.count + 1, bytes=size)
        columns = self.columns
        if self.header is None:
            for key in record:
                if key not in columns:
                    columns[column_name(key)] = None
        self.out.write(line)
        self.out.write(b"\n")
        self.count += 1

    def summary(self):
        return {
            "count": self.count,
            "columns": list(self.columns),
            "dataType": self.data_type,
        }


def check_document(item, number):
    missing = [name for name in ("uri", "filename") if not isinstance(item.get(name), str)]
    if "content" not in item and "text" not in item:
        missing.append("content or text")
    if missing:
        raise TapError(
            "bad_output",
            "document %d has no %s; a document tap must produce dicts with uri and filename "
            "(text), content (base64 of the file's bytes) or text, and optional metadata "
            "(a map of strings)" % (number, " and no ".join(missing)),
        )
    metadata = item.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise TapError(
            "bad_output",
            "document %d has metadata that is not a map of strings to strings" % number,
        )


def items_of(result):
    """The items to read and the state a wrapper return carries."""
    if result is None:
        return (), None
    if isinstance(result, str):
        # Datris taps may return their records as JSON text.
        try:
            result = json.loads(result)
        except ValueError:
            raise TapError(
                "bad_output",
                "fetch() returned text that is not JSON; return dicts, row lists or a generator",
            )
    if isinstance(result, dict):
        records = result.get("records")
        if isinstance(records, list) and set(result) <= {"records", "state"}:
            return records, result.get("state")
        return (result,), None
    if isinstance(result, (bytes, bytearray, int, float, bool)):
        raise TapError(
            "bad_output",
            "fetch() returned a %s; return dicts, row lists or a generator of them"
            % type(result).__name__,
        )
    try:
        return iter(result), None
    except TypeError:
        raise TapError(
            "bad_output",
            "fetch() returned a %s; return dicts, row lists or a generator of them"
            % type(result).__name__,
        )


def read_records(fetch, writer, limit):
    """Reads fetch()'s items; with a limit, stops one item past it without finishing them."""
    items, state = items_of(fetch())
    truncated = False
    iterator = iter(items)
    try:
        for item in iterator:
            if limit and writer.count >= limit:
                # Only a header row can come before the first record, so this is a record.
                truncated = True
                break
            writer.item(item)
    finally:
        # Runs the generator's own cleanup (finally, with) without running it any further.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    return truncated, state


def new_state(module, wrapper_state):
    """The wrapper's `state` wins, then module-level TAP_STATE, then DATRIS_STATE; only a dict
    counts, so `TAP_STATE = os.environ.get("TAP_STATE")` (text) does not set a new state."""
    if isinstance(wrapper_state, dict):
        return wrapper_state
    for name in ("TAP_STATE", "DATRIS_STATE"):
        value = module.get(name)
        if isinstance(value, dict):
            return value
    return None


def user_traceback(error):
    """The exception's last frames that are the user's, not this file's.

    The script's own innermost frame is always kept, even when the library frames under it
    fill the window (urlopen raising HTTPError is six frames deep): it is the line the user
    can change. Paths inside the interpreter's install read as <python>/..., which is shorter
    and does not show where the server keeps its Python.
    """
    import traceback

    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename != __file__
    ]
    shown = frames[-TRACEBACK_FRAMES:]
    script_frames = [frame for frame in frames if frame.filename == SCRIPT_FILE]
    skipped = False
    if script_frames and not any(frame is script_frames[-1] for frame in shown):
        shown = [script_frames[-1]] + frames[-(TRACEBACK_FRAMES - 1):]
        skipped = True
    text = "".join(traceback.format_exception_only(type(error), error)).rstrip()
    if shown:
        lines = traceback.format_list(shown)
        if len(sys.base_prefix) > 1:
            lines = [line.replace(sys.base_prefix, "<python>") for line in lines]
        if skipped:
            lines.insert(1, "  ...\n")
        text += "\nTraceback (most recent call last):\n" + "".join(lines).rstrip("\n")
    return text


def syntax_error_text(error):
    text = "%s: %s" % (type(error).__name__, error)
    if error.text:
        line = error.text.rstrip("\n")
        stripped = line.lstrip()
        text += "\n    " + stripped
        if error.offset:
            caret = max(error.offset - 1 - (len(line) - len(stripped)), 0)
            text += "\n    " + " " * caret + "^"
    return text


def set_limits(config):
    """The per-process limits the kernel enforces, set before the script's code runs. Hard
    limits too: a script may raise a soft limit up to its hard limit, never past it."""
    import resource

    if config["memoryBytes"]:
        limit = int(config["memoryBytes"])
        lower(resource, resource.RLIMIT_AS, limit, limit + MEMORY_MARGIN)
    if config.get("cpuSeconds"):
        # SIGXCPU at the soft limit ends the process (Python leaves it at the default action);
        # the hard limit, a moment later, is SIGKILL for a script that ignores SIGXCPU.
        seconds = int(config["cpuSeconds"])
        lower(resource, resource.RLIMIT_CPU, seconds, seconds + 2)
    if config.get("maxFileBytes"):
        # Python ignores SIGXFSZ, so a write past this fails with EFBIG (reported as
        # disk_limit) instead of killing the process. One byte over the working directory
        # limit, so the file that reaches it also trips spawn.ts's watch of the directory.
        size = int(config["maxFileBytes"])
        lower(resource, resource.RLIMIT_FSIZE, size, size)
    # A core dump (SIGXCPU dumps core) could land in the working directory, uncounted.
    lower(resource, resource.RLIMIT_CORE, 0, 0)
    drop_resource_capability()


def drop_resource_capability():
    """Root with CAP_SYS_RESOURCE may raise a hard limit as it likes, so the limits above would
    bind it in name only. The capability goes from this process and, for root, from the
    bounding set, since a program root runs gets every capability still in that set. Most
    containers start without it; reading /proc first spares them the ctypes import."""
    try:
        with open("/proc/self/status") as status:
            sets = dict(line.split(":", 1) for line in status if line.startswith("Cap"))
        permitted = int(sets["CapPrm"], 16) >> CAP_SYS_RESOURCE & 1
        bounding = int(sets["CapBnd"], 16) >> CAP_SYS_RESOURCE & 1
    except (OSError, KeyError, ValueError):
        return
    if not permitted and not (bounding and os.geteuid() == 0):
        return

    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    # Two {effective, permitted, inheritable} triples: capabilities 0-31, then 32-63.
    data = (ctypes.c_uint32 * 6)()
    dropped = (
        (not bounding or libc.prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) == 0)
        and libc.capget(header, data) == 0
    )
    if dropped:
        keep = ~(1 << CAP_SYS_RESOURCE) & 0xFFFFFFFF
        for index in range(3):
            data[index] &= keep
        dropped = libc.capset(header, data) == 0
    if not dropped:
        raise TapError(
            "crashed",
            "the harness could not drop the capability CAP_SYS_RESOURCE (%s), without which "
            "the script could lift its own limits; run tapline without that capability, or "
            "with CAP_SETPCAP as well" % os.strerror(ctypes.get_errno()),
        )


def lower(resource, which, soft, hard):
    """Sets a limit, never above a hard limit already in force."""
    _old_soft, old_hard = resource.getrlimit(which)
    if old_hard != resource.RLIM_INFINITY:
        hard = min(hard, old_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def lift_memory_limit(config):
    """Gives the harness room to report, whatever the script left allocated."""
    resource = sys.modules.get("resource")
    if config["memoryBytes"] and resource is not None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def run_script(config, writer):
    with open(SCRIPT_FILE, "r", encoding="utf-8") as source_file:
        source = source_file.read()
    try:
        code = compile(source, SCRIPT_FILE, "exec")
    except SyntaxError as error:
        raise TapError("syntax_error", syntax_error_text(error))
    except ValueError as error:
        raise TapError("syntax_error", "SyntaxError: %s (%s)" % (error, SCRIPT_FILE))

    module = type(sys)("tap")
    module.__file__ = SCRIPT_FILE
    sys.modules["tap"] = module
    sys.argv = [SCRIPT_FILE]
    set_limits(config)
    namespace = module.__dict__
    exec(code, namespace)

    fetch = namespace.get("fetch")
    if not callable(fetch):
        raise TapError(
            "no_fetch",
            "the script must define fetch(), a function with no arguments that returns "
            "or yields records",
        )
    truncated, wrapper_state = read_records(fetch, writer, config["limit"])
    writer.out.flush()
    message = writer.summary()
    message["type"] = "done"
    message["truncated"] = truncated
    state = new_state(namespace, wrapper_state)
    if state is not None:
        message["state"] = state
    return message


def run(config, control):
    # Children the script starts must not hold the record or control pipe open after it exits.
    os.set_inheritable(3, False)
    os.set_inheritable(4, False)
    os.dup2(1, 2)
    for stream in (sys.stdout, sys.stderr):
        # Node reads the logs as UTF-8, whatever locale LANG names.
        if stream.encoding.lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    sys.path[0] = os.getcwd()
    writer = RecordWriter(config)
    out_of_memory = False
    try:
        message = run_script(config, writer)
    except TapError as error:
        message = failure(writer, error.kind, str(error))
        message.update(error.extra)
    except OSError as error:
        if getattr(error, "errno", None) == _EFBIG:
            message = failure(writer, "disk_limit", str(error))
        else:
            message = failure(writer, "exception", user_traceback(error))
    except MemoryError:
        # The message is built after this block, once the traceback and the frames holding
        # the script's memory are gone.
        out_of_memory = True
    except SyntaxError as error:
        # Raised by exec() or compile() inside the script, so it is the script's exception.
        message = failure(writer, "exception", user_traceback(error))
    except BaseException as error:
        if isinstance(error, SystemExit):
            error = SystemExit("the script called exit(%r) before fetch() finished" % error.code)
        message = failure(writer, "exception", user_traceback(error))
    lift_memory_limit(config)
    if out_of_memory:
        message = failure(writer, "memory_limit", "MemoryError")

    flush_prints()
    control.write(to_json_bytes(message) + b"\n")
    control.flush()
    return 0 if message["type"] == "done" else 1


def flush_prints():
    # The script may have closed or replaced sys.stdout; its report must still go out.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def failure(writer, kind, error):
    try:
        writer.out.flush()
    except (OSError, ValueError):
        pass
    message = writer.summary()
    message.update({"type": "error", "kind": kind, "error": error})
    return message


def join_cgroups(procs_paths):
    """Moves this process into the run's cgroups (pids, and on cgroup v1 memory) before any of
    the script runs, so every process the script starts is counted against the limits and
    killed at the end."""
    for procs_path in procs_paths:
        try:
            with open(procs_path, "w") as procs:
                procs.write(str(os.getpid()))
        except OSError as error:
            raise TapError(
                "crashed",
                "the harness could not join the run's cgroup %s (%s); tapline cannot bound "
                "the script's processes there" % (procs_path, error.strerror),
            )


def main():
    config = json.loads(sys.argv[1])
    control = open(4, "wb")
    if config.get("cgroupProcs"):
        try:
            join_cgroups(config["cgroupProcs"])
        except TapError as error:
            message = {"type": "error", "kind": error.kind, "error": str(error), "count": 0,
                       "columns": [], "dataType": None}
            control.write(to_json_bytes(message) + b"\n")
            control.flush()
            sys.exit(1)
    status = run(config, control)
    flush_prints()
    sys.exit(status)


if __name__ == "__main__":
    main()
