/* What happens to the interpreters of _interpreters when the process
 * exits or forks.
 *
 * At exit, the interpreters that _interpreters created and that are still
 * alive are finalized (or abandoned, if they cannot be), so that
 * Py_FinalizeEx() does not abort.  In the child of os.fork(), what the
 * threads that did not survive left behind is forgotten.
 */

#ifndef Py_INTERPRETERS_PROCESS_H
#define Py_INTERPRETERS_PROCESS_H

#include "module.h"

/* Register the hooks that run when the process exits, or forks, from the
   module's exec slot, once per process: first_init is set the first time
   the module is executed in the process.  The exit hook is registered
   from C, from any interpreter; in a subinterpreter, have the main
   interpreter import the module for the fork hook.  Return -1 with an
   exception set on error. */
extern int register_process_hooks(PyObject *module, int first_init);

#endif /* !Py_INTERPRETERS_PROCESS_H */
