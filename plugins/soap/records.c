/*
 * records.c -- one record of the register as the EksportService writes it:
 * the elements of fields.c (the CSV export layout's columns, the `_Tekst`
 * texts from the host's code lists, then the fields the layout lacks), a
 * field without a value left out, children nested when asked. Pure: any
 * thread (the export's pieces run it on the pool).
 */
#include <stdio.h>
#include <string.h>

#include "soap.h"

#define BX (const xmlChar *)

static const char *status_text(const char *s)
{
    if (!s) return NULL;
    if (strcmp(s, "aktiv") == 0) return "Aktiv";
    if (strcmp(s, "nedlagt") == 0) return "Nedlagt";
    if (strcmp(s, "kommende") == 0) return "Kommende";
    return s;
}

int soap_record_write(xmlTextWriterPtr w, soap_code_text_fn code_text, dtr_plugin *self,
                      const json_t *rec, dtr_level level, const char *element, bool nested)
{
    size_t n;
    const soap_field *fields = soap_fields(level, &n);
    const json_t *adresse = json_object_get(rec, "adresse");
    if (xmlTextWriterStartElement(w, BX element) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const soap_field *f = &fields[i];
        if (!(f->flags & SF_EXPORT)) continue;
        char text[64];
        const char *out = NULL;
        if (f->type == ST_TEKST) { /* the text of the code before it */
            const soap_field *c = &fields[i - 1];
            const json_t *code = json_object_get(c->in_adresse ? adresse : rec, c->field);
            if (json_is_integer(code))
                out = code_text(self, f->list, (int)json_integer_value(code));
        } else {
            const json_t *v = json_object_get(f->in_adresse ? adresse : rec, f->field);
            if (json_is_string(v))
                out =
                    f->type == ST_STATUS ? status_text(json_string_value(v)) : json_string_value(v);
            else if (json_is_integer(v)) {
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
                out = text;
            } else if (json_is_real(v)) {
                snprintf(text, sizeof text, "%.15g", json_real_value(v));
                out = text;
            }
        }
        if (out && xmlTextWriterWriteElement(w, BX f->element, BX out) < 0) return -1;
    }
    if (nested && level != DTR_LEVEL_ALTERNATIV_ADRESSE) {
        size_t k;
        const json_t *kid;
        json_array_foreach(json_object_get(rec, soap_kids_key(level)), k, kid)
        {
            if (soap_record_write(w, code_text, self, kid, level + 1, soap_level_element(level + 1),
                                  true) < 0)
                return -1;
        }
    }
    return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}
