/* The run state of interpreters, shared by all of them: see runstate.h.
 *
 * Few interpreters exist at a time, so the entries are a linked list.
 * Entries and the lock come from PyMem_Raw*: they outlive any interpreter
 * and hold no Python object.  The lock is never held across a call that
 * may release the GIL.  It is taken with the GIL held, except by the
 * watchdog thread (runstate_watch()), which may hold it when another
 * thread forks: the child reinitializes it.  Under it, the registry may
 * take the runtime's interpreters mutex (to request interrupts), never
 * the other way round.
 */

#include "module.h"
#include "runstate.h"
#include "interrupt.h"

#include "pycore_pystate.h"       // _PyThreadState_RequestInterrupt()

typedef struct runstate_entry {
    struct runstate_entry *next;
    int64_t id;
    /* The thread state Py_NewInterpreter() returned.  It never runs code
       but lives as long as the interpreter: an interpreter whose last
       thread state goes cannot make a new one. */
    PyThreadState *tstate0;
    /* The thread state of a run that imported the threading module, which
       made it the state of its main thread, or NULL.  It is kept as it
       is, not cleared, until the interpreter is destroyed: see
       interp_exit(). */
    PyThreadState *main;
    /* A cleared thread state that the next run may reuse, or NULL, and
       the token of the OS thread it was made for. */
    PyThreadState *spare;
    uintptr_t spare_token;
    int running;
    int destroying;
    int abandoned;
    /* How many Interpreter objects of concurrent.interpreters, in all
       interpreters, stand for this one; with autoclose set, the last one
       to go closes it. */
    Py_ssize_t refs;
    int autoclose;
    /* The run in progress, while running is set: its thread state (NULL
       until runstate_attach()), the interrupt requested before that was
       known, whether its thread is to be woken up until the interrupt is
       taken, and its deadline, if it has a timeout. */
    PyThreadState *run_tstate;
    int run_pending;
    int run_wake;
    int run_has_deadline;
    int run_timed_out;
    _PyTime_t run_deadline;
} runstate_entry;

static struct {
    PyThread_type_lock mutex;
    runstate_entry *head;
    int shutting_down;
    /* Set once the exit hook is registered, or being registered */
    int exit_hook_claimed;
    /* Where the main interpreter's fork hook is */
    enum {
        FORK_HOOK_NONE,
        FORK_HOOK_REQUESTED,    /* by a subinterpreter */
        FORK_HOOK_REGISTERED,
    } fork_hook;
    /* Per OS thread: its token (a uintptr_t) and its innermost switch */
    Py_tss_t token_key;
    Py_tss_t switch_key;
    uintptr_t last_token;
} _runstate = {
    .token_key = Py_tss_NEEDS_INIT,
    .switch_key = Py_tss_NEEDS_INIT,
};


int
runstate_init(void)
{
    if (_runstate.mutex != NULL) {
        return 0;
    }
    /* Only ever called with the GIL held: no other thread can race. */
    _runstate.mutex = PyThread_allocate_lock();
    if (_runstate.mutex == NULL) {
        return RUNSTATE_NOMEM;
    }
    if (PyThread_tss_create(&_runstate.token_key) != 0
        || PyThread_tss_create(&_runstate.switch_key) != 0)
    {
        PyThread_tss_delete(&_runstate.token_key);
        PyThread_free_lock(_runstate.mutex);
        _runstate.mutex = NULL;
        return RUNSTATE_NOMEM;
    }
    return 1;
}

void
runstate_fini(void)
{
    if (_runstate.mutex == NULL) {
        return;
    }
    runstate_entry *entry = _runstate.head;
    while (entry != NULL) {
        runstate_entry *next = entry->next;
        PyMem_RawFree(entry);
        entry = next;
    }
    _runstate.head = NULL;
    PyThread_free_lock(_runstate.mutex);
    _runstate.mutex = NULL;
    _runstate.shutting_down = 0;
    _runstate.exit_hook_claimed = 0;
    _runstate.fork_hook = FORK_HOOK_NONE;
    PyThread_tss_delete(&_runstate.token_key);
    PyThread_tss_delete(&_runstate.switch_key);
}

#define RUNSTATE_LOCK() \
    PyThread_acquire_lock(_runstate.mutex, WAIT_LOCK)
#define RUNSTATE_UNLOCK() \
    PyThread_release_lock(_runstate.mutex)


/* Entries (call with the lock held) */

static runstate_entry *
_find(int64_t id)
{
    runstate_entry *entry = _runstate.head;
    while (entry != NULL && entry->id != id) {
        entry = entry->next;
    }
    return entry;
}


static void
_remove(runstate_entry *entry)
{
    runstate_entry **p = &_runstate.head;
    while (*p != entry) {
        p = &(*p)->next;
    }
    *p = entry->next;
    PyMem_RawFree(entry);
}


/* The API */

int
runstate_add(int64_t id, PyThreadState *tstate0)
{
    /* PyMem_RawCalloc() needs neither the GIL nor a lock. */
    runstate_entry *entry = PyMem_RawCalloc(1, sizeof(runstate_entry));
    if (entry == NULL) {
        return RUNSTATE_NOMEM;
    }
    entry->id = id;
    entry->tstate0 = tstate0;

    RUNSTATE_LOCK();
    int shutting_down = _runstate.shutting_down;
    if (!shutting_down) {
        assert(_find(id) == NULL);
        entry->next = _runstate.head;
        _runstate.head = entry;
    }
    RUNSTATE_UNLOCK();

    if (shutting_down) {
        PyMem_RawFree(entry);
        return RUNSTATE_SHUTDOWN;
    }
    return 0;
}

/* 0 if entry is an idle interpreter, else why not (RUNSTATE_*). */
static int
_check_idle(const runstate_entry *entry)
{
    if (entry == NULL) {
        return RUNSTATE_UNKNOWN;
    }
    if (entry->running) {
        return RUNSTATE_RUNNING;
    }
    if (entry->destroying) {
        return RUNSTATE_DESTROYING;
    }
    return 0;
}

int
runstate_start(int64_t id, uintptr_t token, _PyTime_t deadline,
               PyThreadState **tstate, PyThreadState **stale)
{
    *tstate = NULL;
    *stale = NULL;
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = _check_idle(entry);
    if (res == 0) {
        entry->running = 1;
        if (entry->spare != NULL) {
            if (token != 0 && entry->spare_token == token) {
                *tstate = entry->spare;
            }
            else {
                *stale = entry->spare;
            }
            entry->spare = NULL;
        }
        entry->run_tstate = *tstate;
        entry->run_pending = 0;
        entry->run_wake = 0;
        entry->run_timed_out = 0;
        entry->run_has_deadline = (deadline >= 0);
        entry->run_deadline = deadline;
    }
    RUNSTATE_UNLOCK();
    return res;
}

void
runstate_attach(int64_t id, PyThreadState *tstate)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    if (entry != NULL && entry->running) {
        assert(entry->run_tstate == NULL);
        entry->run_tstate = tstate;
        if (entry->run_pending) {
            /* The calling thread runs it: no need to wake it up.
               XXX Out of memory, the interrupt is lost. */
            (void)_PyThreadState_RequestInterrupt(tstate, entry->run_pending);
        }
    }
    RUNSTATE_UNLOCK();
}

/* Ask the run of entry to stop, how being _Py_INTERRUPT_ONCE or
   _Py_INTERRUPT_UNWIND.  Call with the lock held, while entry runs.
   Return 0, or RUNSTATE_NOMEM. */
static int
_interrupt_run(runstate_entry *entry, int how)
{
    assert(entry->running);
    if (entry->run_tstate == NULL) {
        if (how > entry->run_pending) {
            entry->run_pending = how;
        }
        return 0;
    }
    if (_PyThreadState_RequestInterrupt(entry->run_tstate, how) < 0) {
        return RUNSTATE_NOMEM;
    }
    /* The lock keeps the run, hence its thread, alive. */
    interrupt_wake_thread(entry->run_tstate->thread_id);
    entry->run_wake = 1;
    return 0;
}

int
runstate_interrupt(int64_t id, int unwind)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = 0;
    if (entry != NULL && entry->running && !entry->abandoned) {
        res = _interrupt_run(entry, unwind ? _Py_INTERRUPT_UNWIND
                                           : _Py_INTERRUPT_ONCE);
        if (res == 0) {
            res = 1;
        }
    }
    RUNSTATE_UNLOCK();
    return res;
}

_PyTime_t
runstate_watch(_PyTime_t now)
{
    _PyTime_t interval = _PyTime_FromNanoseconds(
        (_PyTime_t)INTERRUPT_WAKE_INTERVAL_MS * 1000 * 1000);
    _PyTime_t next = -1;
    RUNSTATE_LOCK();
    for (runstate_entry *entry = _runstate.head; entry != NULL;
         entry = entry->next)
    {
        if (!entry->running) {
            continue;
        }
        if (entry->run_has_deadline && !entry->run_timed_out) {
            _PyTime_t when = entry->run_deadline;
            if (now >= when) {
                entry->run_timed_out =
                    (_interrupt_run(entry, _Py_INTERRUPT_UNWIND) == 0);
                /* Out of memory: try again later. */
                when = now + interval;
            }
            if (!entry->run_timed_out && (next < 0 || when < next)) {
                next = when;
            }
        }
        if (entry->run_wake && entry->run_tstate != NULL) {
            if (_PyThreadState_GetInterrupt(entry->run_tstate)) {
                interrupt_wake_thread(entry->run_tstate->thread_id);
                if (next < 0 || now + interval < next) {
                    next = now + interval;
                }
            }
            else {
                /* Taken */
                entry->run_wake = 0;
            }
        }
    }
    RUNSTATE_UNLOCK();
    return next;
}

/* Forget the run of entry, and return whether its timeout expired.  Call
   with the lock held. */
static int
_forget_run(runstate_entry *entry)
{
    int timed_out = entry->run_timed_out;
    entry->run_tstate = NULL;
    entry->run_pending = 0;
    entry->run_wake = 0;
    entry->run_has_deadline = 0;
    entry->run_timed_out = 0;
    return timed_out;
}

/* The run of entry is over: forget it, and return whether its timeout
   expired.  Call with the lock held. */
static int
_end_run(runstate_entry *entry)
{
    if (entry->run_tstate != NULL) {
        /* An interrupt that came too late must not reach a later run
           that reuses the thread state. */
        (void)_PyThreadState_ClearInterrupt(entry->run_tstate);
    }
    return _forget_run(entry);
}

int
runstate_has_main(int64_t id)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = entry != NULL && entry->main != NULL;
    RUNSTATE_UNLOCK();
    return res;
}

PyThreadState *
runstate_stop(int64_t id, PyThreadState *tstate, int as_main,
              uintptr_t token, int *timed_out)
{
    int expired = 0;
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    if (entry != NULL) {
        assert(entry->running);
        expired = _end_run(entry);
        entry->running = 0;
        if (tstate != NULL && !entry->abandoned) {
            if (as_main) {
                if (entry->main == NULL) {
                    entry->main = tstate;
                    tstate = NULL;
                }
            }
            else if (entry->spare == NULL) {
                entry->spare = tstate;
                entry->spare_token = token;
                tstate = NULL;
            }
        }
    }
    RUNSTATE_UNLOCK();
    if (timed_out != NULL) {
        *timed_out = expired;
    }
    return tstate;
}

int
runstate_contains(int64_t id)
{
    RUNSTATE_LOCK();
    int res = _find(id) != NULL;
    RUNSTATE_UNLOCK();
    return res;
}

int
runstate_is_running(int64_t id)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int running = entry != NULL && entry->running;
    RUNSTATE_UNLOCK();
    return running;
}

int
runstate_begin_destroy(int64_t id, PyThreadState **tstate0,
                       PyThreadState **main, PyThreadState **spare)
{
    *tstate0 = NULL;
    *main = NULL;
    *spare = NULL;
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = _check_idle(entry);
    if (res == 0) {
        entry->destroying = 1;
        *tstate0 = entry->tstate0;
        *main = entry->main;
        *spare = entry->spare;
        entry->spare = NULL;
    }
    RUNSTATE_UNLOCK();
    return res;
}

void
runstate_end_destroy(int64_t id, int destroyed, PyThreadState *main)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    if (entry != NULL) {
        assert(entry->destroying);
        entry->destroying = 0;
        if (destroyed) {
            assert(entry->spare == NULL);
            _remove(entry);
        }
        else {
            entry->main = main;
        }
    }
    RUNSTATE_UNLOCK();
}

int
runstate_incref(int64_t id, int autoclose)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = RUNSTATE_UNKNOWN;
    if (entry != NULL) {
        entry->refs++;
        if (autoclose) {
            entry->autoclose = 1;
        }
        res = 0;
    }
    RUNSTATE_UNLOCK();
    return res;
}

int
runstate_decref(int64_t id, int64_t current_id, int *known_tstates)
{
    *known_tstates = 0;
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = 0;
    if (entry == NULL || entry->refs == 0) {
        res = RUNSTATE_UNKNOWN;
    }
    else if (--entry->refs == 0 && entry->autoclose) {
        /* Closing it from the finalizers of an interpreter being
           destroyed, or while the process exits, would nest one
           finalization in another: leave it to the exit then. */
        runstate_entry *current = _find(current_id);
        res = (_check_idle(entry) == 0
               && !entry->abandoned
               && !_runstate.shutting_down
               && (current == NULL || !current->destroying));
        *known_tstates = (1 + (entry->main != NULL)
                          + (entry->spare != NULL));
    }
    RUNSTATE_UNLOCK();
    return res;
}

int
runstate_shutdown(void)
{
    RUNSTATE_LOCK();
    int already = _runstate.shutting_down;
    _runstate.shutting_down = 1;
    RUNSTATE_UNLOCK();
    return already;
}

int
runstate_is_shutting_down(void)
{
    RUNSTATE_LOCK();
    int res = _runstate.shutting_down;
    RUNSTATE_UNLOCK();
    return res;
}

void
runstate_abandon(int64_t id)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    if (entry != NULL) {
        entry->abandoned = 1;
    }
    RUNSTATE_UNLOCK();
}

int
runstate_claim_exit_hook(void)
{
    RUNSTATE_LOCK();
    int first = !_runstate.exit_hook_claimed;
    _runstate.exit_hook_claimed = 1;
    RUNSTATE_UNLOCK();
    return first;
}

void
runstate_release_exit_hook(void)
{
    RUNSTATE_LOCK();
    _runstate.exit_hook_claimed = 0;
    RUNSTATE_UNLOCK();
}

int
runstate_request_fork_hook(void)
{
    RUNSTATE_LOCK();
    int first = (_runstate.fork_hook == FORK_HOOK_NONE);
    if (first) {
        _runstate.fork_hook = FORK_HOOK_REQUESTED;
    }
    RUNSTATE_UNLOCK();
    return first;
}

void
runstate_cancel_fork_hook_request(void)
{
    RUNSTATE_LOCK();
    if (_runstate.fork_hook == FORK_HOOK_REQUESTED) {
        _runstate.fork_hook = FORK_HOOK_NONE;
    }
    RUNSTATE_UNLOCK();
}

int
runstate_claim_fork_hook(void)
{
    RUNSTATE_LOCK();
    int first = (_runstate.fork_hook != FORK_HOOK_REGISTERED);
    _runstate.fork_hook = FORK_HOOK_REGISTERED;
    RUNSTATE_UNLOCK();
    return first;
}

void
runstate_release_fork_hook(void)
{
    RUNSTATE_LOCK();
    _runstate.fork_hook = FORK_HOOK_NONE;
    RUNSTATE_UNLOCK();
}


void
runstate_after_fork_child(void)
{
    if (_runstate.mutex == NULL) {
        return;
    }
    /* The watchdog, which takes the lock without the GIL, may have held
       it when the process forked. */
    if (_PyThread_at_fork_reinit(&_runstate.mutex) < 0) {
        Py_FatalError("cannot reinitialize the _interpreters registry "
                      "lock after fork");
    }
    /* The other threads are gone, and so are the runs that they made:
       their thread states must never be touched again. */
    RUNSTATE_LOCK();
    for (runstate_entry *entry = _runstate.head; entry != NULL;
         entry = entry->next)
    {
        (void)_forget_run(entry);
    }
    RUNSTATE_UNLOCK();
}


/* Per OS thread */

uintptr_t
runstate_thread_token(void)
{
    uintptr_t token = (uintptr_t)PyThread_tss_get(&_runstate.token_key);
    if (token != 0) {
        return token;
    }
    RUNSTATE_LOCK();
    /* XXX On 32-bit platforms, tokens wrap around after 2**32 threads. */
    token = ++_runstate.last_token;
    if (token == 0) {
        token = ++_runstate.last_token;
    }
    RUNSTATE_UNLOCK();
    if (PyThread_tss_set(&_runstate.token_key, (void *)token) != 0) {
        return 0;
    }
    return token;
}

void *
runstate_thread_switch(void)
{
    return PyThread_tss_get(&_runstate.switch_key);
}

int
runstate_set_thread_switch(void *sw)
{
    if (PyThread_tss_set(&_runstate.switch_key, sw) != 0) {
        return RUNSTATE_NOMEM;
    }
    return 0;
}
