/* The run state of interpreters, shared by all of them: see runstate.h.
 *
 * Few interpreters exist at a time, so the entries are a linked list.
 * Entries and the lock come from PyMem_Raw*: they outlive any interpreter
 * and hold no Python object.  The lock is only ever taken with the GIL
 * held and never held across a call that may release the GIL, so a
 * fork() can never happen while another thread holds it.
 */

#include "module.h"
#include "runstate.h"

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
    /* A cleared thread state that the next run may reuse, or NULL. */
    PyThreadState *spare;
    int running;
    int destroying;
    int abandoned;
} runstate_entry;

static struct {
    PyThread_type_lock mutex;
    runstate_entry *head;
    int shutting_down;
    /* Where the main interpreter's exit hooks are: see
       runstate_request_exit_hooks(). */
    enum {
        EXIT_HOOKS_NONE,
        EXIT_HOOKS_REQUESTED,
        EXIT_HOOKS_REGISTERED,
    } exit_hooks;
} _runstate = {NULL, NULL, 0, EXIT_HOOKS_NONE};


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
    _runstate.exit_hooks = EXIT_HOOKS_NONE;
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
runstate_start(int64_t id, PyThreadState **spare)
{
    *spare = NULL;
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = _check_idle(entry);
    if (res == 0) {
        entry->running = 1;
        *spare = entry->spare;
        entry->spare = NULL;
    }
    RUNSTATE_UNLOCK();
    return res;
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
runstate_stop(int64_t id, PyThreadState *tstate, int as_main)
{
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    if (entry != NULL) {
        assert(entry->running);
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
                tstate = NULL;
            }
        }
    }
    RUNSTATE_UNLOCK();
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

void
runstate_exit_hooks_registered(void)
{
    RUNSTATE_LOCK();
    _runstate.exit_hooks = EXIT_HOOKS_REGISTERED;
    RUNSTATE_UNLOCK();
}

int
runstate_request_exit_hooks(void)
{
    RUNSTATE_LOCK();
    int first = (_runstate.exit_hooks == EXIT_HOOKS_NONE);
    if (first) {
        _runstate.exit_hooks = EXIT_HOOKS_REQUESTED;
    }
    RUNSTATE_UNLOCK();
    return first;
}

void
runstate_cancel_exit_hooks_request(void)
{
    RUNSTATE_LOCK();
    if (_runstate.exit_hooks == EXIT_HOOKS_REQUESTED) {
        _runstate.exit_hooks = EXIT_HOOKS_NONE;
    }
    RUNSTATE_UNLOCK();
}
