/* The journal's hot loop in C: RFC 9162 leaf and node hashes, a list at a time, with OpenSSL's SHA-256.
 *
 * Why it exists: appending a leaf costs two SHA-256 calls (its leaf hash and, on average, one interior node).
 * Through hashlib each call costs about 0.35 us, of which the hashing is a fifth; the rest is Python's call,
 * object and digest overhead. Here a whole level is hashed in one call (docs/benchmarks.md, Journal).
 *
 * Nothing here is a hash scheme of its own: SHA-256(0x00 || data) for a leaf and SHA-256(0x01 || left || right)
 * for an interior node, exactly merkle.leaf_hash and merkle.node_hash, which stay the reference (the tests
 * compare both on random input). The SHA-256 is OpenSSL's libcrypto, the same library hashlib uses.
 *
 * The GIL is held throughout: the inputs are Python objects, and a level of a batch hashes in about a
 * millisecond. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>

#define HASH_SIZE 32

static EVP_MD *sha256;

/* SHA-256(prefix || a || b) into out. One context serves a whole call: re-initialising it with the same digest
 * keeps OpenSSL's provider state instead of allocating it per hash. */
static int
hash_into(EVP_MD_CTX *ctx, unsigned char prefix, const char *a, Py_ssize_t na, const char *b, Py_ssize_t nb,
          unsigned char *out)
{
    return EVP_DigestInit_ex2(ctx, sha256, NULL)
        && EVP_DigestUpdate(ctx, &prefix, 1)
        && EVP_DigestUpdate(ctx, a, (size_t)na)
        && (nb == 0 || EVP_DigestUpdate(ctx, b, (size_t)nb))
        && EVP_DigestFinal_ex(ctx, out, NULL);
}

/* A new list of n bytes objects of HASH_SIZE, to be filled in place (their buffers are not shared yet). */
static PyObject *
new_hash_list(Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h = PyBytes_FromStringAndSize(NULL, HASH_SIZE);
        if (h == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, h);
    }
    return list;
}

static PyObject *
hash_all(PyObject *arg, int nodes)
{
    /* A tuple of the items, not the caller's list: allocating the result may run the garbage collector, and a
     * finalizer could then resize a list under the pointers below. The tuple holds its own references. */
    PyObject *seq = PySequence_Tuple(arg);
    if (seq == NULL) {
        if (Py_TYPE(arg)->tp_iter == NULL && !PySequence_Check(arg)) { /* not iterable at all: say what we take */
            PyErr_SetString(PyExc_TypeError, nodes ? "node_hashes takes a sequence of hashes"
                                                   : "leaf_hashes takes a sequence of bytes");
        }
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Py_ssize_t n = nodes ? count / 2 : count;
    for (Py_ssize_t i = 0; i < (nodes ? 2 * n : n); i++) {
        if (!PyBytes_Check(items[i])) {
            PyErr_Format(PyExc_TypeError, "item %zd is %.100s, not bytes", i, Py_TYPE(items[i])->tp_name);
            Py_DECREF(seq);
            return NULL;
        }
        if (nodes && PyBytes_GET_SIZE(items[i]) != HASH_SIZE) {
            PyErr_Format(PyExc_ValueError, "item %zd is %zd bytes, not a %d-byte hash", i,
                         PyBytes_GET_SIZE(items[i]), HASH_SIZE);
            Py_DECREF(seq);
            return NULL;
        }
    }
    PyObject *result = new_hash_list(n);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (result == NULL || ctx == NULL) {
        if (ctx == NULL && result != NULL)
            PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(PyList_GET_ITEM(result, i));
        int ok;
        if (nodes)
            ok = hash_into(ctx, 0x01, PyBytes_AS_STRING(items[2 * i]), HASH_SIZE,
                           PyBytes_AS_STRING(items[2 * i + 1]), HASH_SIZE, out);
        else
            ok = hash_into(ctx, 0x00, PyBytes_AS_STRING(items[i]), PyBytes_GET_SIZE(items[i]), NULL, 0, out);
        if (!ok) {
            PyErr_SetString(PyExc_RuntimeError, "OpenSSL's SHA-256 failed");
            goto fail;
        }
    }
    EVP_MD_CTX_free(ctx);
    Py_DECREF(seq);
    return result;
fail:
    EVP_MD_CTX_free(ctx);
    Py_XDECREF(result);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *
leaf_hashes(PyObject *module, PyObject *datas)
{
    return hash_all(datas, 0);
}

static PyObject *
node_hashes(PyObject *module, PyObject *hashes)
{
    return hash_all(hashes, 1);
}

static PyMethodDef methods[] = {
    {"leaf_hashes", leaf_hashes, METH_O,
     "leaf_hashes(datas) -> list of SHA-256(0x00 || data), one per item (bytes)."},
    {"node_hashes", node_hashes, METH_O,
     "node_hashes(hashes) -> list of SHA-256(0x01 || left || right) of consecutive pairs; an odd last one is "
     "left out."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "fintech_zone.journal._sha256",
    "RFC 9162 leaf and node hashes a list at a time (OpenSSL's SHA-256).", -1, methods,
};

PyMODINIT_FUNC
PyInit__sha256(void)
{
    if (sha256 == NULL) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (sha256 == NULL) {
            PyErr_SetString(PyExc_ImportError, "OpenSSL offers no SHA-256");
            return NULL;
        }
    }
    return PyModule_Create(&module);
}
