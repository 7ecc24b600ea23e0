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
runstate_start(int64_t id, PyThreadState **spare, uintptr_t *spare_token)
{
    *spare = NULL;
    *spare_token = 0;
    RUNSTATE_LOCK();
    runstate_entry *entry = _find(id);
    int res = _check_idle(entry);
    if (res == 0) {
        entry->running = 1;
        *spare = entry->spare;
        *spare_token = entry->spare_token;
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
runstate_stop(int64_t id, PyThreadState *tstate, int as_main,
              uintptr_t token)
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
                entry->spare_token = token;
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
