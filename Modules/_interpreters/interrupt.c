/* Waking up interrupted threads, and the watchdog thread: see
 * interrupt.h.
 */

#include "module.h"
#include "interrupt.h"
#include "runstate.h"

#ifdef HAVE_SIGNAL_H
#  include <signal.h>
#endif

#if defined(HAVE_PTHREAD_KILL) && defined(HAVE_SIGACTION) \
    && defined(SIGURG) && defined(_POSIX_THREADS)
#  define INTERRUPT_CAN_WAKE 1
#  include <pthread.h>
#endif


/* Waking up a thread blocked in a system call */

#ifdef INTERRUPT_CAN_WAKE

/* The signal's only purpose is to make the system call fail with EINTR. */
static void
wake_handler(int Py_UNUSED(signum))
{
}

/* Whether SIGURG has our handler: unknown until the first wake-up, then
   set for good (only read and changed with the registry lock held). */
static enum {
    WAKE_UNKNOWN,
    WAKE_INSTALLED,     /* by us */
    WAKE_UNAVAILABLE,   /* the program had its own use for SIGURG */
} wake_state = WAKE_UNKNOWN;

/* Return 1 if SIGURG's handler is ours (installing it the first time, if
   SIGURG has its default disposition), else 0. */
static int
wake_handler_is_ours(void)
{
    struct sigaction current;
    if (wake_state == WAKE_UNAVAILABLE
        || sigaction(SIGURG, NULL, &current) != 0)
    {
        return 0;
    }
    if (wake_state == WAKE_INSTALLED) {
        /* signal.signal() may have replaced it since. */
        return (!(current.sa_flags & SA_SIGINFO)
                && current.sa_handler == wake_handler);
    }
    if ((current.sa_flags & SA_SIGINFO) || current.sa_handler != SIG_DFL) {
        wake_state = WAKE_UNAVAILABLE;
        return 0;
    }
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = wake_handler;
    sigemptyset(&action.sa_mask);
    /* No SA_RESTART: the system call must fail with EINTR. */
    action.sa_flags = 0;
    if (sigaction(SIGURG, &action, NULL) != 0) {
        wake_state = WAKE_UNAVAILABLE;
        return 0;
    }
    wake_state = WAKE_INSTALLED;
    return 1;
}

void
interrupt_wake_thread(unsigned long thread_id)
{
    if (wake_handler_is_ours()) {
        /* Fails only if the thread is gone, which the caller rules out. */
        (void)pthread_kill((pthread_t)thread_id, SIGURG);
    }
}

#else

void
interrupt_wake_thread(unsigned long Py_UNUSED(thread_id))
{
    /* XXX On Windows, a blocked thread could be woken up by cancelling its
       I/O and setting its sigint_event. */
}

#endif /* INTERRUPT_CAN_WAKE */


/* The watchdog

   It sleeps on the wakeup lock, which is always held: a poke releases
   it, once until the watchdog has looked at the registry again.  The
   done lock is held while the watchdog runs. */

static struct {
    PyThread_type_lock mutex;       /* guards the fields below */
    PyThread_type_lock wakeup;
    PyThread_type_lock done;
    int started;
    int poked;
    int stopping;
} _watchdog;

#define WATCHDOG_LOCK() PyThread_acquire_lock(_watchdog.mutex, WAIT_LOCK)
#define WATCHDOG_UNLOCK() PyThread_release_lock(_watchdog.mutex)

/* Release the wakeup lock unless a poke did already.  Call with the mutex
   held. */
static void
watchdog_poke_locked(void)
{
    if (!_watchdog.poked) {
        _watchdog.poked = 1;
        PyThread_release_lock(_watchdog.wakeup);
    }
}

/* Return how long to sleep, in microseconds, before looking at the
   registry again at time next (-1: until poked). */
static PY_TIMEOUT_T
watchdog_sleep_time(_PyTime_t now, _PyTime_t next)
{
    if (next < 0) {
        return -1;
    }
    if (next <= now) {
        return 0;
    }
    _PyTime_t us = _PyTime_AsMicroseconds(next - now, _PyTime_ROUND_CEILING);
    return us > PY_TIMEOUT_MAX ? PY_TIMEOUT_MAX : (PY_TIMEOUT_T)us;
}

static void
watchdog_main(void *Py_UNUSED(arg))
{
    for (;;) {
        WATCHDOG_LOCK();
        int stopping = _watchdog.stopping;
        _watchdog.poked = 0;
        WATCHDOG_UNLOCK();
        if (stopping) {
            break;
        }
        _PyTime_t now = _PyTime_GetMonotonicClock();
        _PyTime_t next = runstate_watch(now);
        (void)PyThread_acquire_lock_timed(_watchdog.wakeup,
                                          watchdog_sleep_time(now, next), 0);
    }
    PyThread_release_lock(_watchdog.done);
}

/* Set up the locks, with the GIL held.  Return 0, or -1 (no memory). */
static int
watchdog_init(void)
{
    if (_watchdog.mutex != NULL) {
        return 0;
    }
    PyThread_type_lock mutex = PyThread_allocate_lock();
    PyThread_type_lock wakeup = PyThread_allocate_lock();
    PyThread_type_lock done = PyThread_allocate_lock();
    if (mutex == NULL || wakeup == NULL || done == NULL) {
        goto error;
    }
    (void)PyThread_acquire_lock(wakeup, WAIT_LOCK);
    _watchdog.mutex = mutex;
    _watchdog.wakeup = wakeup;
    _watchdog.done = done;
    return 0;

error:
    if (mutex != NULL) {
        PyThread_free_lock(mutex);
    }
    if (wakeup != NULL) {
        PyThread_free_lock(wakeup);
    }
    if (done != NULL) {
        PyThread_free_lock(done);
    }
    return -1;
}

int
interrupt_watchdog_poke(void)
{
    /* XXX Setting up relies on the GIL, as runstate_init() does. */
    if (watchdog_init() < 0) {
        return -1;
    }
    int res = 0;
    WATCHDOG_LOCK();
    if (_watchdog.stopping) {
        res = -1;
    }
    else if (_watchdog.started) {
        watchdog_poke_locked();
    }
    else {
        /* A new thread looks at the registry first thing. */
        (void)PyThread_acquire_lock(_watchdog.done, WAIT_LOCK);
        if (PyThread_start_new_thread(watchdog_main, NULL)
            == PYTHREAD_INVALID_THREAD_ID)
        {
            PyThread_release_lock(_watchdog.done);
            res = -1;
        }
        else {
            _watchdog.started = 1;
        }
    }
    WATCHDOG_UNLOCK();
    return res;
}

void
interrupt_watchdog_stop(void)
{
    if (_watchdog.mutex == NULL) {
        return;
    }
    WATCHDOG_LOCK();
    int started = _watchdog.started;
    _watchdog.stopping = 1;
    if (started) {
        watchdog_poke_locked();
    }
    WATCHDOG_UNLOCK();
    if (started) {
        /* It never takes the GIL: waiting with it held is fine. */
        (void)PyThread_acquire_lock(_watchdog.done, WAIT_LOCK);
        PyThread_release_lock(_watchdog.done);
    }
}

void
interrupt_after_fork_child(void)
{
    /* The watchdog did not survive, and its locks may be in any state:
       start afresh with new ones.  (The old ones are left, not freed: a
       lock held by a thread that is gone cannot be freed safely
       everywhere.) */
    _watchdog.mutex = NULL;
    _watchdog.wakeup = NULL;
    _watchdog.done = NULL;
    _watchdog.started = 0;
    _watchdog.poked = 0;
    _watchdog.stopping = 0;
}
