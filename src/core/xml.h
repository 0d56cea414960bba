/*
 * A small XML writer for documents whose element names are the program's own (Open311's
 * <service_requests><request>...): text is escaped (& < > " ' as entities; tab, LF and CR as
 * character references so they survive a parser's normalisation), characters XML 1.0 cannot
 * carry at all (other C0 controls, U+FFFE, U+FFFF) and bytes that are not UTF-8 become U+FFFD, so
 * the output is well-formed whatever the stored text. Valid UTF-8 passes through unchanged.
 */
#ifndef CG_CORE_XML_H
#define CG_CORE_XML_H

#include <stddef.h>

#include "core/buf.h"

#define CG_XML_MAX_DEPTH 16

typedef struct {
    cg_buf *b;
    const char *open[CG_XML_MAX_DEPTH]; /* names of the open elements (not copied) */
    int depth;
} cg_xml;

/* Appends len bytes of text, escaped as above. */
void cg_xml_escape(cg_buf *b, const char *s, size_t len);

/* Starts a document in b with <?xml version="1.0" encoding="UTF-8"?>. */
void cg_xml_begin(cg_xml *x, cg_buf *b);
/* <name>; names must outlive the writer (string constants). Deeper than CG_XML_MAX_DEPTH
 * aborts: the nesting is the program's, not the input's. */
void cg_xml_open(cg_xml *x, const char *name);
/* </name> of the innermost open element. */
void cg_xml_close(cg_xml *x);
/* Closes every open element. */
void cg_xml_end(cg_xml *x);
/* <name>text</name>, or <name/> when text is NULL. */
void cg_xml_element(cg_xml *x, const char *name, const char *text);
/* <name>formatted</name> (the formatted text is escaped too). */
void cg_xml_elementf(cg_xml *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
