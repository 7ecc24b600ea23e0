/* What the caller learns about an exception raised in another interpreter:
 * see excinfo.h.
 */

#include "module.h"
#include "pycore_namespace.h"     // _PyNamespace_New()
#include "pycore_pystate.h"       // _PyThreadState_ClearInterrupt()
#include "excinfo.h"

/* The same text as the traceback module's */
static const char NO_STR[] = "<exception str() failed>";
static const char UNKNOWN[] = "<unknown>";
static const char NO_TRACEBACK[] = "<traceback unavailable>\n";


/* Raw text */

static void
text_set_static(excinfo_text *text, const char *s)
{
    text->data = s;
    text->size = (Py_ssize_t)strlen(s);
    text->owned = 0;
}

/* Copy size bytes from s, or fall back to the static text fallback if
   out of memory. */
static void
text_set_copy(excinfo_text *text, const char *s, Py_ssize_t size,
              const char *fallback)
{
    char *copy = PyMem_RawMalloc(size + 1);
    if (copy == NULL) {
        text_set_static(text, fallback);
        return;
    }
    memcpy(copy, s, size);
    copy[size] = '\0';
    text->data = copy;
    text->size = size;
    text->owned = 1;
}

/* Copy the str obj (may be NULL or not a str) or fall back to the static
   text fallback.  Consume a reference to obj.  Never leaves an exception
   set: the caller clears the one that made obj NULL. */
static void
text_set_str(excinfo_text *text, PyObject *obj, const char *fallback)
{
    if (obj == NULL || !PyUnicode_Check(obj)) {
        Py_XDECREF(obj);
        PyErr_Clear();
        text_set_static(text, fallback);
        return;
    }
    Py_ssize_t size;
    const char *data = PyUnicode_AsUTF8AndSize(obj, &size);
    if (data != NULL) {
        text_set_copy(text, data, size, fallback);
        Py_DECREF(obj);
        return;
    }
    /* Lone surrogates: keep them, excinfo_raise() restores them. */
    PyErr_Clear();
    PyObject *bytes = PyUnicode_AsEncodedString(obj, "utf-8",
                                                "surrogatepass");
    Py_DECREF(obj);
    if (bytes == NULL) {
        PyErr_Clear();
        text_set_static(text, fallback);
        return;
    }
    text_set_copy(text, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes),
                  fallback);
    Py_DECREF(bytes);
}

static PyObject *
text_decode(const excinfo_text *text)
{
    if (text->data == NULL) {
        return PyUnicode_FromStringAndSize(NULL, 0);
    }
    return PyUnicode_DecodeUTF8(text->data, text->size, "surrogatepass");
}

static void
text_clear(excinfo_text *text)
{
    if (text->owned) {
        PyMem_RawFree((char *)text->data);
    }
    text->data = NULL;
    text->size = 0;
    text->owned = 0;
}


/* In the interpreter that raised */

/* Return the traceback of exc as the traceback module formats it, a new
   reference, or NULL with an exception set. */
static PyObject *
format_exception(PyObject *exc)
{
    PyObject *traceback = PyImport_ImportModule("traceback");
    if (traceback == NULL) {
        return NULL;
    }
    PyObject *lines = PyObject_CallMethod(traceback, "format_exception",
                                          "O", exc);
    Py_DECREF(traceback);
    if (lines == NULL) {
        return NULL;
    }
    PyObject *empty = PyUnicode_New(0, 0);
    if (empty == NULL) {
        Py_DECREF(lines);
        return NULL;
    }
    PyObject *text = PyUnicode_Join(empty, lines);
    Py_DECREF(empty);
    Py_DECREF(lines);
    return text;
}

/* Fall back to the last line of a traceback, "qualname: msg\n". */
static void
set_formatted_fallback(excinfo *info)
{
    const excinfo_text *qualname = &info->type_qualname;
    const excinfo_text *msg = &info->msg;
    Py_ssize_t size = qualname->size + 1;
    if (msg->size > 0) {
        size += 2 + msg->size;
    }
    char *text = PyMem_RawMalloc(size + 1);
    if (text == NULL) {
        text_set_static(&info->formatted, NO_TRACEBACK);
        return;
    }
    char *p = text;
    memcpy(p, qualname->data, qualname->size);
    p += qualname->size;
    if (msg->size > 0) {
        memcpy(p, ": ", 2);
        p += 2;
        memcpy(p, msg->data, msg->size);
        p += msg->size;
    }
    *p++ = '\n';
    *p = '\0';
    info->formatted.data = text;
    info->formatted.size = size;
    info->formatted.owned = 1;
}

void
excinfo_capture(excinfo *info, int flags)
{
    /* The code failed, interrupted or not: an interrupt still requested
       (with unwind, say) must not break its description, which runs the
       traceback module. */
    (void)_PyThreadState_ClearInterrupt(_PyThreadState_GET());

    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        /* Broken C code failed without an exception: say so rather than
           describe an exception that does not exist. */
        PyErr_SetString(PyExc_SystemError,
                        "error return without exception set");
        PyErr_Fetch(&type, &value, &tb);
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL || !PyExceptionInstance_Check(value)) {
        /* Only broken C code raises something that is not an exception:
           describe it by its type. */
        Py_XSETREF(value, NULL);
    }
    else if (tb != NULL) {
        /* The traceback of an exception that left the frame where it was
           raised is only in tb. */
        if (PyException_SetTraceback(value, tb) < 0) {
            PyErr_Clear();
        }
    }
    PyTypeObject *tp = value != NULL ? Py_TYPE(value)
                                     : (PyTypeObject *)type;
    if (tp == NULL || !PyType_Check(tp)) {
        tp = (PyTypeObject *)PyExc_BaseException;
    }

    text_set_str(&info->type_name, PyType_GetName(tp), UNKNOWN);
    text_set_str(&info->type_qualname, PyType_GetQualName(tp), UNKNOWN);
    text_set_str(&info->type_module,
                 PyObject_GetAttrString((PyObject *)tp, "__module__"),
                 UNKNOWN);
    if (value == NULL) {
        text_set_static(&info->msg, NO_STR);
        set_formatted_fallback(info);
        goto done;
    }
    text_set_str(&info->msg, PyObject_Str(value), NO_STR);

    PyObject *formatted = format_exception(value);
    if (formatted == NULL) {
        PyErr_Clear();
        set_formatted_fallback(info);
    }
    else {
        text_set_str(&info->formatted, formatted, NO_TRACEBACK);
    }

    if (flags & EXCINFO_WITH_EXCEPTION) {
        info->exc = xdata_encode_exception(value);
        if (info->exc == NULL) {
            /* The caller will do without it. */
            PyErr_Clear();
        }
    }

done:
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    /* A destructor above may have raised. */
    PyErr_Clear();
}


/* In the caller */

PyObject *
excinfo_summary(const excinfo *info)
{
    PyObject *qualname = text_decode(&info->type_qualname);
    if (qualname == NULL || info->msg.size == 0) {
        return qualname;
    }
    PyObject *msg = text_decode(&info->msg);
    if (msg == NULL) {
        Py_DECREF(qualname);
        return NULL;
    }
    PyObject *summary = PyUnicode_FromFormat("%U: %U", qualname, msg);
    Py_DECREF(qualname);
    Py_DECREF(msg);
    return summary;
}

/* Return a types.SimpleNamespace with what info says, a new reference, or
   NULL with an exception set. */
static PyObject *
excinfo_as_namespace(const excinfo *info)
{
    PyObject *ns = NULL, *kwds = NULL, *typekwds = NULL, *type = NULL;
    PyObject *value = NULL;

    typekwds = PyDict_New();
    if (typekwds == NULL) {
        goto done;
    }
    struct {
        const char *name;
        const excinfo_text *text;
    } typeattrs[] = {
        {"__name__", &info->type_name},
        {"__qualname__", &info->type_qualname},
        {"__module__", &info->type_module},
    };
    for (size_t i = 0; i < Py_ARRAY_LENGTH(typeattrs); i++) {
        value = text_decode(typeattrs[i].text);
        if (value == NULL) {
            goto done;
        }
        if (PyDict_SetItemString(typekwds, typeattrs[i].name, value) < 0) {
            goto done;
        }
        Py_CLEAR(value);
    }
    type = _PyNamespace_New(typekwds);
    if (type == NULL) {
        goto done;
    }

    kwds = PyDict_New();
    if (kwds == NULL || PyDict_SetItemString(kwds, "type", type) < 0) {
        goto done;
    }
    value = text_decode(&info->msg);
    if (value == NULL || PyDict_SetItemString(kwds, "msg", value) < 0) {
        goto done;
    }
    Py_SETREF(value, text_decode(&info->formatted));
    if (value == NULL || PyDict_SetItemString(kwds, "formatted", value) < 0)
    {
        goto done;
    }
    ns = _PyNamespace_New(kwds);

done:
    Py_XDECREF(value);
    Py_XDECREF(type);
    Py_XDECREF(kwds);
    Py_XDECREF(typekwds);
    return ns;
}

PyObject *
excinfo_cause(const excinfo *info)
{
    if (info->exc == NULL) {
        return NULL;
    }
    PyObject *exc = xdata_decode(NULL, info->exc);
    if (exc == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (!PyExceptionInstance_Check(exc)) {
        Py_DECREF(exc);
        return NULL;
    }
    return exc;
}

int
excinfo_raise(excinfo *info, PyObject *exctype)
{
    PyObject *summary = excinfo_summary(info);
    if (summary == NULL) {
        return -1;
    }
    PyObject *err = PyObject_CallOneArg(exctype, summary);
    Py_DECREF(summary);
    if (err == NULL) {
        return -1;
    }
    PyObject *ns = excinfo_as_namespace(info);
    if (ns == NULL) {
        Py_DECREF(err);
        return -1;
    }
    int res = PyObject_SetAttrString(err, "excinfo", ns);
    Py_DECREF(ns);
    if (res < 0) {
        Py_DECREF(err);
        return -1;
    }
    PyObject *cause = excinfo_cause(info);
    if (cause != NULL) {
        PyException_SetCause(err, cause);
    }
    PyErr_SetObject(exctype, err);
    Py_DECREF(err);
    return -1;
}

void
excinfo_clear(excinfo *info)
{
    text_clear(&info->type_name);
    text_clear(&info->type_qualname);
    text_clear(&info->type_module);
    text_clear(&info->msg);
    text_clear(&info->formatted);
    xdata_free(info->exc);
    info->exc = NULL;
}
