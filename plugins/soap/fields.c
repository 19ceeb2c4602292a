/*
 * fields.c -- the record elements of the three levels and the operations
 * of both services: the one table the XSD, the WSDLs, the xmlData mapping
 * and the export writer are all made from, so they cannot drift apart.
 *
 * Element names are the CSV export layout's columns (plugins/csv/layout.c),
 * in its order, `_Tekst` columns included; the fields the layout has no
 * column for (etage, doer, dawaId, the dates, version, opdateret) follow.
 * The xmlData documents use the same names, without the register's own
 * fields, so a vendor can send back a record as the export gave it.
 */
#include <string.h>

#include "soap.h"

#define I SF_IMPORT
#define E SF_EXPORT
#define R SF_REQUIRED

static const soap_field daginstitution_fields[] = {
    {"daginstitutionsNummer", "nummer", false, ST_NUMMER, I | E | SF_KEY, NULL},
    {"daginstitutionsNavn", "navn", false, ST_NAVN, I | E | R, NULL},
    {"ejerformKode", "ejerformKode", false, ST_EJERFORM, I | E | R, NULL},
    {"ejerformKode_Tekst", NULL, false, ST_TEKST, E, "ejerform"},
    {"lovgrundlagKode", "lovgrundlagKode", false, ST_LOVGRUNDLAG, I | E | R, NULL},
    {"lovgrundlagKode_Tekst", NULL, false, ST_TEKST, E, "lovgrundlag"},
    {"admKommuneKode", "admKommuneKode", false, ST_KOMMUNE, I | E | R, NULL},
    {"admKommuneKode_Tekst", NULL, false, ST_TEKST, E, "kommune"},
    {"aktivitetsstatus", "status", false, ST_STATUS, E, NULL},
    {"virkningFra", "virkningFra", false, ST_DATO, I | E | SF_FRA, NULL},
    {"virkningTil", "virkningTil", false, ST_DATO, E, NULL},
    {"version", "version", false, ST_VERSION, I | E | SF_IFMATCH, NULL},
    {"opdateret", "opdateret", false, ST_TID, E, NULL},
};

static const soap_field anvisningsenhed_fields[] = {
    {"anvisningsenhedsNummer", "nummer", false, ST_NUMMER, I | E | SF_KEY, NULL},
    {"daginstitutionsNummer", "daginstitutionsNummer", false, ST_NUMMER, I | E | SF_PARENT, NULL},
    {"dagtilbudsNavn", "navn", false, ST_NAVN, I | E | R, NULL},
    {"instType3", "instType3", false, ST_INSTTYPE, I | E | R, NULL},
    {"instType3_Tekst", NULL, false, ST_TEKST, E, "institutionstype"},
    {"kommuneKode", "kommuneKode", true, ST_KOMMUNE, I | E | R, NULL},
    {"kommuneKode_Tekst", NULL, false, ST_TEKST, E, "kommune"},
    {"vejNavn", "vejNavn", true, ST_VEJNAVN, I | E | R, NULL},
    {"husNummer", "husNummer", true, ST_HUSNUMMER, I | E | R, NULL},
    {"postNummer", "postNummer", true, ST_POSTNUMMER, I | E | R, NULL},
    {"byNavn", "byNavn", true, ST_BYNAVN, I | E | R, NULL},
    {"supplerendeBynavn", "supplerendeBynavn", true, ST_TEKST34, I | E, NULL},
    {"email", "email", false, ST_EMAIL, I | E, NULL},
    {"telefonNummer", "telefonNummer", false, ST_TELEFON, I | E, NULL},
    {"cvrNummer", "cvrNummer", false, ST_CVR, I | E, NULL},
    {"pNummer", "pNummer", false, ST_PNUMMER, I | E, NULL},
    {"geoBredde", "geoBredde", true, ST_BREDDE, I | E | SF_KEPT, NULL},
    {"geoLaengde", "geoLaengde", true, ST_LAENGDE, I | E | SF_KEPT, NULL},
    {"aktivitetsstatus", "status", false, ST_STATUS, E, NULL},
    {"etage", "etage", true, ST_TEKST34, I | E, NULL},
    {"doer", "doer", true, ST_TEKST34, I | E, NULL},
    {"dawaId", "dawaId", true, ST_UUID, I | E | SF_KEPT, NULL},
    {"virkningFra", "virkningFra", false, ST_DATO, I | E | SF_FRA, NULL},
    {"virkningTil", "virkningTil", false, ST_DATO, E, NULL},
    {"version", "version", false, ST_VERSION, I | E | SF_IFMATCH, NULL},
    {"opdateret", "opdateret", false, ST_TID, E, NULL},
};

static const soap_field alternativadresse_fields[] = {
    {"alternativAdresseNummer", "nummer", false, ST_NUMMER, I | E | SF_KEY, NULL},
    {"anvisningsenhedsNummer", "anvisningsenhedsNummer", false, ST_NUMMER, I | E | SF_PARENT, NULL},
    {"dagtilbudsNavn", "navn", false, ST_NAVN, I | E | R, NULL},
    {"vejNavn", "vejNavn", true, ST_VEJNAVN, I | E | R, NULL},
    {"husNummer", "husNummer", true, ST_HUSNUMMER, I | E | R, NULL},
    {"postNummer", "postNummer", true, ST_POSTNUMMER, I | E | R, NULL},
    {"byNavn", "byNavn", true, ST_BYNAVN, I | E | R, NULL},
    {"supplerendeBynavn", "supplerendeBynavn", true, ST_TEKST34, I | E, NULL},
    {"kommuneKode", "kommuneKode", true, ST_KOMMUNE, I | E | R, NULL},
    {"kommuneKode_Tekst", NULL, false, ST_TEKST, E, "kommune"},
    {"cvrNummer", "cvrNummer", false, ST_CVR, I | E, NULL},
    {"pNummer", "pNummer", false, ST_PNUMMER, I | E, NULL},
    {"geoBredde", "geoBredde", true, ST_BREDDE, I | E | SF_KEPT, NULL},
    {"geoLaengde", "geoLaengde", true, ST_LAENGDE, I | E | SF_KEPT, NULL},
    {"aktivitetsstatus", "status", false, ST_STATUS, E, NULL},
    {"etage", "etage", true, ST_TEKST34, I | E, NULL},
    {"doer", "doer", true, ST_TEKST34, I | E, NULL},
    {"dawaId", "dawaId", true, ST_UUID, I | E | SF_KEPT, NULL},
    {"virkningFra", "virkningFra", false, ST_DATO, I | E | SF_FRA, NULL},
    {"virkningTil", "virkningTil", false, ST_DATO, E, NULL},
    {"version", "version", false, ST_VERSION, I | E | SF_IFMATCH, NULL},
    {"opdateret", "opdateret", false, ST_TID, E, NULL},
};

#undef I
#undef E
#undef R
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const soap_field *soap_fields(dtr_level level, size_t *n)
{
    switch (level) {
    case DTR_LEVEL_ANVISNINGSENHED:
        *n = COUNT(anvisningsenhed_fields);
        return anvisningsenhed_fields;
    case DTR_LEVEL_ALTERNATIV_ADRESSE:
        *n = COUNT(alternativadresse_fields);
        return alternativadresse_fields;
    default:
        *n = COUNT(daginstitution_fields);
        return daginstitution_fields;
    }
}

const char *soap_level_element(dtr_level level)
{
    switch (level) {
    case DTR_LEVEL_ANVISNINGSENHED:
        return "anvisningsEnhed";
    case DTR_LEVEL_ALTERNATIV_ADRESSE:
        return "alternativAdresse";
    default:
        return "daginstitution";
    }
}

const char *soap_kids_key(dtr_level level)
{
    switch (level) {
    case DTR_LEVEL_DAGINSTITUTION:
        return "anvisningsenheder";
    case DTR_LEVEL_ANVISNINGSENHED:
        return "alternativeAdresser";
    default:
        return NULL;
    }
}

const char *soap_type_name(soap_type t)
{
    static const char *const names[] = {
        [ST_NUMMER] = "tns:Nummer",
        [ST_NAVN] = "tns:Navn",
        [ST_VEJNAVN] = "tns:VejNavn",
        [ST_BYNAVN] = "tns:ByNavn",
        [ST_TEKST34] = "tns:Tekst34",
        [ST_EMAIL] = "tns:Email",
        [ST_TELEFON] = "tns:TelefonNummer",
        [ST_CVR] = "tns:CvrNummer",
        [ST_PNUMMER] = "tns:PNummer",
        [ST_HUSNUMMER] = "tns:HusNummer",
        [ST_POSTNUMMER] = "tns:PostNummer",
        [ST_UUID] = "tns:DawaId",
        [ST_BREDDE] = "tns:GeoBredde",
        [ST_LAENGDE] = "tns:GeoLaengde",
        [ST_DATO] = "tns:Dato",
        [ST_EJERFORM] = "tns:EjerformKode",
        [ST_LOVGRUNDLAG] = "tns:LovgrundlagKode",
        [ST_KOMMUNE] = "tns:KommuneKode",
        [ST_INSTTYPE] = "tns:InstType3",
        [ST_TEKST] = "xs:string",
        [ST_STATUS] = "tns:Aktivitetsstatus",
        [ST_VERSION] = "tns:Version",
        [ST_TID] = "xs:string",
    };
    return names[t];
}

#define DI DTR_LEVEL_DAGINSTITUTION
#define AE DTR_LEVEL_ANVISNINGSENHED
#define AA DTR_LEVEL_ALTERNATIV_ADRESSE
#define IMP(name, kind, lvl)                                                                       \
    {                                                                                              \
        SOAP_IMPORT, name, kind, lvl, "xmlData", "xs:string", "xs:string", SQ_ALL, false, NULL     \
    }
#define READ(name, lvl, param, ptype, rtype, filter, nested, wrapper)                              \
    {                                                                                              \
        SOAP_EKSPORT, name, SK_READ, lvl, param, ptype, rtype, filter, nested, wrapper             \
    }
#define DAGTILBUD "tns:dagtilbudsRegister"
#define DIS "tns:daginstitutionerExtend"
#define AES "tns:anvisningenhederExtend"
#define AAS "tns:alternativadresserExtend"

const soap_op soap_ops[] = {
    {SOAP_IMPORT, "HelloWorld", SK_HELLO, DI, NULL, NULL, "xs:string", SQ_ALL, false, NULL},
    {SOAP_IMPORT, "GetXMLSchema", SK_SCHEMA, DI, NULL, NULL, "xs:string", SQ_ALL, false, NULL},
    IMP("ValidateXmlAgainstSchema", SK_VALIDATE, DI),
    IMP("InsertDaginstitution", SK_INSERT, DI),
    IMP("UpdateDaginstitution", SK_UPDATE, DI),
    IMP("DeleteDaginstitution", SK_DELETE, DI),
    IMP("InsertAnvisningsEnhed", SK_INSERT, AE),
    IMP("UpdateAnvisningsEnhed", SK_UPDATE, AE),
    IMP("DeleteAnvisningsEnhed", SK_DELETE, AE),
    IMP("InsertAlternativAdresse", SK_INSERT, AA),
    IMP("UpdateAlternativAdresse", SK_UPDATE, AA),
    IMP("DeleteAlternativAdresse", SK_DELETE, AA),
    IMP("MoveAnvisningsEnhed", SK_MOVE, AE),
    IMP("MoveAlternativAdresse", SK_MOVE, AA),

    {SOAP_EKSPORT, "HelloWorld", SK_HELLO, DI, NULL, NULL, "xs:string", SQ_ALL, false, NULL},
    READ("GetAllDagtilbud", DI, NULL, NULL, DAGTILBUD, SQ_ALL, true, "daginstitution"),
    READ("GetDagtilbudByDagInstitutionsNummer", DI, "DagInstitutionsNummer", "tns:Nummer",
         DAGTILBUD, SQ_NUMMER, true, "daginstitution"),
    READ("GetDagtilbudByAdmKommuneNummer", DI, "AdmkommuneNummer", "xs:int", DAGTILBUD,
         SQ_ADM_KOMMUNE, true, "daginstitution"),
    READ("GetAllDaginstitutioner", DI, NULL, NULL, DIS, SQ_ALL, false, "daginstitution"),
    READ("GetDaginstitutionByNummer", DI, "DagInstitutionsNummer", "tns:Nummer", DIS, SQ_NUMMER,
         false, "daginstitution"),
    READ("GetDaginstitutionByNavn", DI, "partOfName", "xs:string", DIS, SQ_NAVN, false,
         "daginstitution"),
    READ("GetAllAnvisningsEnheder", AE, NULL, NULL, AES, SQ_ALL, false, "anvisningsEnhed"),
    READ("GetAnvisningsEnhederByPnummer", AE, "pNummer", "tns:PNummer", AES, SQ_PNUMMER, false,
         "anvisningsEnhed"),
    READ("GetAnvisningsEnhederByNummer", AE, "enhedsNummer", "tns:Nummer", AES, SQ_NUMMER, false,
         "anvisningsEnhed"),
    READ("GetAnvisningsEnhederByCvrnummer", AE, "cvrNummer", "tns:CvrNummer", AES, SQ_CVR, false,
         "anvisningsEnhed"),
    READ("GetAnvisningsEnhederByNavn", AE, "partOfName", "xs:string", AES, SQ_NAVN, false,
         "anvisningsEnhed"),
    READ("GetAnvisningsEnhederByDaginstitutionsnummer", AE, "DagInstitutionsNummer", "tns:Nummer",
         AES, SQ_PARENT, false, "anvisningsEnhed"),
    READ("GetAllAlternativAdresser", AA, NULL, NULL, AAS, SQ_ALL, false, "alternativAdresse"),
    READ("GetAlternativAdresserByCvrnummer", AA, "cvrNummer", "tns:CvrNummer", AAS, SQ_CVR, false,
         "alternativAdresse"),
    READ("GetAlternativAdresserByPnummer", AA, "pNummer", "tns:PNummer", AAS, SQ_PNUMMER, false,
         "alternativAdresse"),
    {SOAP_EKSPORT, "GetKodetabel", SK_KODETABEL, DI, "navn", "tns:KodetabelNavn", "tns:Kodetabel",
     SQ_ALL, false, NULL},
    {0, NULL, 0, DI, NULL, NULL, NULL, SQ_ALL, false, NULL},
};

const soap_op *soap_op_find(soap_service service, const char *name)
{
    for (const soap_op *op = soap_ops; op->name; op++)
        if (op->service == service && strcmp(op->name, name) == 0) return op;
    return NULL;
}

const char *soap_service_name(soap_service s)
{
    return s == SOAP_IMPORT ? "ImportService" : "EksportService";
}
