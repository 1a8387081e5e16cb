# gmprt-gdb.py -- gdb support for gmprt's goroutines (the idea of Go's
# runtime-gdb.py, written for this runtime's data structures).
#
# Commands:
#   info goroutines        one line per live user goroutine: id, state or
#                          wait reason, name, and where it is (the first frame
#                          outside the runtime, or the thread it runs on)
#   goroutine N bt [ARGS]  the backtrace of goroutine N from its saved
#                          context (ARGS go to gdb's backtrace: full, -N...)
#
# Both work on a live process and on a core file. Installed as
# share/gdb/auto-load/<libdir>/libgmprt.so.<version>-gdb.py, so gdb loads it
# with the library (add the prefix's share/gdb/auto-load to gdb's
# auto-load safe-path and scripts-directory when it is not /usr); or load it
# by hand with `source gmprt-gdb.py`.
#
# How it reads the runtime. gmprt::sched.allg lists every G ever made
# (core/sched.hpp); a G's status word (core/g.hpp) holds the state in its
# low byte. A G that is not running has a saved context: the frame that
# gmprt_context_swap* pushed (core/arch/context_x86_64.S), from its saved
# stack pointer up: control words, r15, r14, r13, r12, rbx, rbp, return
# address. The saved stack pointer is g->fiber.ctx.sp.
#
# How `goroutine N bt` switches to that context. In a live process it sets
# the selected thread's rip, rsp, rbp and callee-saved registers to the
# saved ones (Go's way), runs gdb's backtrace, which unwinds with the DWARF
# CFI, and restores them. gdb cannot write a core file's registers, so
# there it walks the frame-pointer chain from the saved rbp (the runtime is
# built with frame pointers) and names each pc with gdb's symbols and line
# tables. (A Python frame unwinder that presents the saved registers as a
# frame's caller was tried: gdb does not consult Python unwinders for
# inlined innermost frames, such as those of a thread stopped in abort.)
#
# x86-64 only, like the runtime's context switch.

import re

import gdb

# core/g.hpp GStatus and WaitReason, in declaration order; the wait reasons
# read as core/trace.cpp prints them (Go's wording).
_STATES = ["idle", "runnable", "running", "syscall", "waiting", "dead"]
_WAIT_REASONS = [
    "running", "park", "chan receive", "chan send", "chan receive (nil chan)",
    "chan send (nil chan)", "select", "select (no cases)", "sleep", "sync.Mutex.Lock",
    "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.Cond.Wait", "sync.WaitGroup.Wait",
    "semacquire", "IO wait", "preempted", "locked to thread",
]
# The saved frame (core/arch/context_x86_64.S), word index -> register.
_SAVED = {1: "r15", 2: "r14", 3: "r13", 4: "r12", 5: "rbx", 6: "rbp", 7: "rip"}
_FRAME_WORDS = 8
_MAX_FRAMES = 64


def _atomic_value(v):
    """The value inside a std::atomic (libstdc++ keeps it in _M_i)."""
    try:
        return int(v["_M_i"])
    except gdb.error:
        return int(v)


def _read_word(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return int.from_bytes(bytes(mem), "little")


def _goroutines():
    """Every live user G: (goid, state, G value), in allg order."""
    try:
        sched = gdb.parse_and_eval("gmprt::sched")
    except gdb.error:
        raise gdb.GdbError("gmprt: no runtime in this program (gmprt::sched not found)")
    allg = sched["allg"]
    out = []
    for i in range(int(sched["nallg"])):
        g = allg[i].dereference()
        word = _atomic_value(g["status"])
        state = word & 0xFF
        if state >= len(_STATES) or _STATES[state] in ("idle", "dead") or bool(g["system"]):
            continue
        out.append((int(g["goid"]), _STATES[state], g))
    return out


def _state_text(state, g):
    if state == "waiting":
        r = int(g["waitreason"])
        return _WAIT_REASONS[r] if r < len(_WAIT_REASONS) else "waiting"
    return state


def _saved_context(g):
    """The saved registers of a G that is not running, or None."""
    sp = int(g["fiber"]["ctx"]["sp"])
    lo = int(g["fiber"]["stack_lo"])
    hi = lo + int(g["fiber"]["stack_size"])
    if sp == 0 or sp < lo or sp + _FRAME_WORDS * 8 > hi:
        return None
    regs = {name: _read_word(sp + 8 * i) for i, name in _SAVED.items()}
    regs["rsp"] = sp + _FRAME_WORDS * 8
    return regs


def _function_at(pc):
    """'function at file:line' for a pc, as far as gdb knows it."""
    block = None
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        pass
    while block is not None and block.function is None:
        block = block.superblock
    name = block.function.print_name if block is not None else None
    if name is None:
        name = gdb.execute("info symbol 0x%x" % pc, to_string=True).split(" in section")[0].strip()
        if name.startswith("No symbol"):
            name = "0x%x" % pc
    sal = gdb.find_pc_line(pc)
    if sal.symtab is not None:
        return "%s at %s:%d" % (name, sal.symtab.filename, sal.line)
    return name


def _is_runtime(text):
    return text.startswith("gmprt::") or text.startswith("gmp_") or text.startswith(
        "gmprt_context") or text.startswith("0x")


def _fp_frames(g, regs):
    """The goroutine's frames by walking frame pointers from its saved
    context (the runtime is built with frame pointers); a list of pcs."""
    lo = int(g["fiber"]["stack_lo"])
    hi = lo + int(g["fiber"]["stack_size"])
    pcs = [regs["rip"]]
    fp = regs["rbp"]
    while len(pcs) < _MAX_FRAMES and lo <= fp and fp + 16 <= hi and fp % 8 == 0:
        nxt, ret = _read_word(fp), _read_word(fp + 8)
        if ret == 0:
            break
        pcs.append(ret)
        if nxt <= fp:
            break
        fp = nxt
    return pcs


def _where(state, g):
    """Where a goroutine is: the first frame outside the runtime."""
    if state in ("running", "syscall"):
        m = g["m"]
        if int(m) != 0:
            return "on thread M%d (LWP %d)" % (int(m["id"]), int(m["tid"]))
        return "on a thread"
    regs = _saved_context(g)
    if regs is None:
        return "not started"
    first = entry = None
    for pc in _fp_frames(g, regs):
        text = _function_at(pc - 1)
        first = first or text
        if not _is_runtime(text):
            return text
        if text.startswith("gmp_"):
            entry = text  # the call into the runtime, if nothing outside it shows
    return entry or first


class InfoGoroutines(gdb.Command):
    """List the program's goroutines: id, state or wait reason, name, where.

A "*" marks a goroutine running on the selected thread."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        thread = gdb.selected_thread()
        lwp = thread.ptid[1] if thread is not None else 0
        for goid, state, g in _goroutines():
            mark = " "
            if state in ("running", "syscall") and int(g["m"]) != 0 and int(g["m"]["tid"]) == lwp:
                mark = "*"
            name = g["name"].string()
            gdb.write("%s %d [%s]%s %s\n" % (mark, goid, _state_text(state, g),
                                             (" " + name) if name else "", _where(state, g)))


def _print_fp_backtrace(g, regs):
    for i, pc in enumerate(_fp_frames(g, regs)):
        gdb.write("#%-3d0x%016x in %s\n" % (i, pc, _function_at(pc - 1)))


def _live_backtrace(regs, bt_args):
    """Switch the selected thread's registers to the saved context, run
    gdb's backtrace (DWARF unwinding), and switch them back."""
    names = ["rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15"]
    frame = gdb.newest_frame()
    saved = {n: int(frame.read_register(n)) for n in names}
    try:
        for n in names:
            gdb.execute("set $%s = %d" % (n, regs[n]), to_string=True)
        gdb.write(gdb.execute("backtrace " + bt_args, to_string=True))
    finally:
        for n in names:
            gdb.execute("set $%s = %d" % (n, saved[n]), to_string=True)


class GoroutineCommand(gdb.Command):
    """goroutine N bt [BACKTRACE-ARGS]: backtrace of goroutine N.

A goroutine that is not running is shown from its saved context. In a live
process the selected thread's registers are switched to that context for
gdb's own backtrace (ARGS go to it: full, -N...) and switched back; in a
core file, whose registers gdb cannot write, its frames are found by
walking frame pointers from the saved context. A running goroutine is on a
thread: select that thread (info threads) and use bt."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        args = arg.split()
        if len(args) < 2 or args[1] not in ("bt", "backtrace"):
            raise gdb.GdbError("usage: goroutine N bt [backtrace arguments]")
        goid = int(args[0], 0)
        for gid, state, g in _goroutines():
            if gid == goid:
                break
        else:
            raise gdb.GdbError("gmprt: no goroutine %d" % goid)
        if state in ("running", "syscall"):
            raise gdb.GdbError("gmprt: goroutine %d is %s, %s: select that thread "
                               "(info threads) and use bt" % (goid, state, _where(state, g)))
        regs = _saved_context(g)
        if regs is None:
            raise gdb.GdbError("gmprt: goroutine %d has not started; no stack yet" % goid)
        live = gdb.selected_inferior().pid != 0 and not _is_core()
        if live:
            _live_backtrace(regs, " ".join(args[2:]))
        else:
            _print_fp_backtrace(g, regs)


def _is_core():
    target = gdb.execute("info target", to_string=True)
    return "Local core dump file" in target


InfoGoroutines()
GoroutineCommand()
