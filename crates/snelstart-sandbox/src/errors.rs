//! SnelStart's error vocabulary: business-rule codes (Dutch texts from `foutcodes-v2.json`) and the other body shapes.

use serde_json::{Value, json};

/// One business-rule violation, serialized as `{"errorCode","message","details"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub code: &'static str,
    pub details: Option<String>,
}

impl Violation {
    pub fn new(code: &'static str) -> Self {
        Self {
            code,
            details: None,
        }
    }

    pub fn with(code: &'static str, details: impl Into<String>) -> Self {
        Self {
            code,
            details: Some(details.into()),
        }
    }
}

/// Violations collected in order, one per code.
#[derive(Default)]
pub struct Problems(pub Vec<Violation>);

impl Problems {
    pub fn add(&mut self, code: &'static str) {
        if !self.0.iter().any(|v| v.code == code) {
            self.0.push(Violation::new(code));
        }
    }

    pub fn add_with(&mut self, code: &'static str, details: impl Into<String>) {
        if !self.0.iter().any(|v| v.code == code) {
            self.0.push(Violation::with(code, details));
        }
    }
}

/// The array body `[{"errorCode","message","details":null}, …]`.
pub fn violations_body(list: &[Violation]) -> Value {
    Value::Array(
        list.iter()
            .map(|v| {
                json!({
                    "errorCode": v.code,
                    "message": message(v.code),
                    "details": v.details,
                })
            })
            .collect(),
    )
}

/// The ASP.NET framework shape `{"Message": "…"}` (OData errors, 404).
pub fn framework(message: impl Into<String>) -> Value {
    json!({ "Message": message.into() })
}

/// The ASP.NET model-binding shape `{"message":"The request is invalid.","modelState":{…}}`.
pub fn model_state(field: &str, problem: &str) -> Value {
    json!({
        "message": "The request is invalid.",
        "modelState": { field: [problem] },
    })
}

/// The APIM gateway shape `{"statusCode": N, "message": "…"}`.
pub fn gateway(status: u16, message: impl Into<String>) -> Value {
    json!({ "statusCode": status, "message": message.into() })
}

/// The Dutch message of a code (from `shared/snelstart/foutcodes-v2.json`).
pub fn message(code: &str) -> &'static str {
    match code {
        "ALG-0100" => "Het ID dient leeg te zijn",
        "ALG-0101" => "Het ID in het url en het ID van de data in het request komen niet overeen",
        "ALG-0102" => "Onbekende fout",
        "ALG-0103" => "Ongeldig ID",
        "ALG-0104" => "Ongeldig OData filter",
        "ALG-0105" => "Het item is nonactief",
        "ALG-0106" => "De data in het request is leeg",
        "BLG-0005" => "Inkoopboeking niet gevonden.",
        "BLG-0006" => "Bestand is groter dan 10MB.",
        "BLG-0007" => "Geen bestandsnaam opgegeven.",
        "BLG-0008" => "Bijlage is leeg.",
        "BLG-0009" => "Aanvraag is leeg.",
        "BLG-0011" => "Content is leeg.",
        "BLG-0013" => "Content is groter dan 10MB.",
        "BLG-0016" => "Bestandsnaam bevat niet-toegestane karakters.",
        "BLG-0017" => "Bestandsnaam is te lang.",
        "BOE-0001" => "Niet gevonden",
        "BOE-0008" => {
            "De grootboekrekening is verwijderd en staat op nonactief in de administratie"
        }
        "BOE-0019" => "De kostenplaats is niet gevonden",
        "BOE-0021" => "Het factuurnummer bestaat al",
        "BOE-0025" => "Het dagboek kas is niet gevonden",
        "BOE-0027" => "Het afgedragen en ontvangen bedrag zijn beide ongelijk aan nul",
        "BOE-0022" => "Bij de opgegeven grootboekrekening is een kostenplaats is verplicht",
        "BOE-0023" => "Er zijn geen boekingsregels",
        "BOE-0028" => "Een regelbedrag is nul",
        "BOE-0033" => "De boekdatum mag niet meer dan 5 jaar voor het huidig boekjaar liggen",
        "BOE-0037" => "Een grootboekrekening kon niet worden gevonden",
        "BOE-0039" => "De boeking is niet in balans",
        "BOE-0054" => "De relatie is verwijderd en staat op nonactief",
        "BOE-0058" => "Het factuurnummer is verplicht en mag maximaal 25 tekens bevatten.",
        "BOE-0060" => "De opgegeven relatie is geen klant.",
        "BOE-0061" => "Er is een niet toegestane grootboekrekening gebruikt.",
        "BOE-0062" => "Btwverlegd mag niet worden gecombineerd met andere btwsoorten.",
        "BOE-0064" => "Er is zowel een doorlopende- als een éénmalige incassomachtiging opgegeven.",
        "BOE-0068" => "Het boekstuk mag maximaal 25 tekens lang zijn.",
        "BOE-0069" => "De opgegeven BTW is niet geldig",
        "BOE-0070" => "De opgegeven boekdatum is niet geldig",
        "BOE-0071" => "Een omschrijving mag maximaal 250 tekens lang zijn.",
        "BOE-0078" => "De id kan niet gewijzigd worden",
        "BOE-0082" => {
            "Een btw-soort ontbreekt, of komt niet overeen met de btwsoort van de grootboekrekening."
        }
        "BOE-0083" => "De factuur kan niet worden verwijderd omdat er betalingen zijn.",
        "BOE-0096" => "Het dagboek is niet gevonden",
        "REL-0001" => "RelatieSoort mag niet 'geen' zijn",
        "REL-0003" => "Krediettermijn mag niet kleiner dan -365 of groter dan 1000 zijn",
        "REL-0004" => "RelatieSoort dient klant te bevatten indien Factuurkorting aan staat",
        "REL-0005" => "Relatie niet gevonden",
        "REL-0006" => "KvkNummer is ongeldig",
        "REL-0007" => "Naam moet gevuld zijn",
        "REL-0008" => "Relatiecode reeds in gebruik",
        "REL-0009" => {
            "Iban mag niet leeg zijn wanneer bankieren aan staat of incassosoort is 'geen'"
        }
        "REL-0010" => "Bic is ongeldig",
        "REL-0011" => "Iban is ongeldig",
        "REL-0012" => "MobieleTelefoon mag maximaal 25 karakters bevatten",
        "REL-0013" => "Telefoon mag maximaal 25 karakters bevatten",
        "REL-0014" => "Relatiesoort dient leverancier te bevatten indien bankieren aan staat",
        "REL-0015" => "WebSiteUrl dient een geldig URL te zijn",
        "REL-0016" => "RelatieSoort dient klant te bevatten indien IncassoSoort gevuld is",
        "REL-0017" => "Factuurrelatie bestaat niet",
        "REL-0018" => "Factuurrelatie is geen klant",
        "REL-0020" => "VestigingsAdres.Straat mag maximaal 50 karakters bevatten",
        "REL-0021" => "VestigingsAdres.Postcode mag maximaal 25 karakters bevatten",
        "REL-0022" => "VestigingsAdres.Plaats mag maximaal 50 karakters bevatten",
        "REL-0023" => "VestigingsAdres.Contactpersoon mag maximaal 50 karakters bevatten",
        "REL-0025" => "Correspondentie.Straat mag maximaal 50 karakters bevatten",
        "REL-0026" => "Correspondentie.Postcode mag maximaal 25 karakters bevatten",
        "REL-0027" => "Correspondentie.Plaats mag maximaal 50 karakters bevatten",
        "REL-0028" => "Correspondentie.Contactpersoon mag maximaal 50 karakters bevatten",
        "REL-0029" => {
            "AanmaningEmailVersturen.Email dient gevuld te zijn indien AanmaningEmailVersturen.ShouldSend aan staat"
        }
        "REL-0032" => {
            "FactuurEmailVersturen.Email dient gevuld te zijn indien FactuurEmailVersturen.ShouldSend aan staat"
        }
        "REL-0038" => {
            "BevestigingsEmailVersturen.Email dient gevuld te zijn indien BevestigingsEmailVersturen.ShouldSend aan staat"
        }
        "REL-0044" => {
            "OfferteEmailVersturen.Email dient gevuld te zijn indien OfferteEmailVersturen.ShouldSend aan staat"
        }
        "REL-0047" => {
            "Het ID in het url en het ID van de relatie in het request komen niet overeen"
        }
        "REL-0048" => "RelatieSoort mag niet 'eigen' bevatten",
        "REL-0049" => "Klant heeft openstaande facturen",
        "REL-0055" => "CorrespondentieAdres.LandId niet gevonden",
        "REL-0056" => "VestigingsAdres.LandId niet gevonden",
        "REL-0057" => "BtwNummer mag maximaal 50 karakters bevatten",
        "REL-0058" => "BtwNummer moet minimaal 2 karakters bevatten",
        "REL-0059" => "BtwNummer mag alleen cijfers en letters bevatten",
        "REL-0060" => {
            "Indien een van de velden van VestigingsAdres gevuld is, meegegeven dienen alle velden gevuld zijn, uitgezonderd Contactpersoon"
        }
        "REL-0062" => "RelatieSoort dient klant te bevatten indien Kredietlimiet ingevuld is.",
        "REL-0063" => "Het ID dient leeg te zijn.",
        "REL-0064" => "RelatieSoort mag niet aangepast worden.",
        "REL-0065" => "RelatieSoort kan niet zowel 'klant' als 'leverancier' zijn.",
        "REL-0066" => {
            "De input is incompleet of incorrect. Controleer of de json valide is en de juiste properties bevat."
        }
        "REL-0067" => {
            "Deze leverancier kan niet worden verwijderd omdat deze intern door SnelStart wordt gebruikt."
        }
        "REL-0068" | "REL-0070" | "REL-0072" | "REL-0074" | "REL-0076" | "REL-0078"
        | "REL-0080" | "REL-0082" | "REL-0084" => email_list_message(code),
        "REL-0069" => "AanmaningEmailVersturen.Email mag maximaal 250 karakters bevatten",
        "REL-0071" => "AanmaningEmailVersturen.CcEmail mag maximaal 250 karakters bevatten",
        "REL-0073" => "FactuurEmailVersturen.Email mag maximaal 250 karakters bevatten",
        "REL-0075" => "FactuurEmailVersturen.CcEmail mag maximaal 250 karakters bevatten",
        "REL-0077" => "BevestigingsEmailVersturen.Email mag maximaal 250 karakters bevatten",
        "REL-0079" => "BevestigingsEmailVersturen.CcEmail mag maximaal 250 karakters bevatten",
        "REL-0081" => "OfferteEmailVersturen.Email mag maximaal 250 karakters bevatten",
        "REL-0083" => "OfferteEmailVersturen.CcEmail mag maximaal 250 karakters bevatten",
        "REL-0085" => "Email mag maximaal 250 karakters bevatten",
        "REL-0086" => "Oin moet exact 20 cijfers bevatten of null zijn",
        "REL-0087" => "De Btw landcode komt niet overeen met de landcode van het vestigingsadres",
        "REL-0088" => "Het opgegeven nummer is geen geldig btw-nummer",
        "REL-0089" => {
            "E-mailadres voor Offerte-aanvragen moet ingevuld zijn als deze standaard gemaild moeten worden"
        }
        "REL-0090" => "Het opgegeven e-mailadres voor Offerte-aanvragen is ongeldig",
        "REL-0092" => "E-mailadres voor Offerte-aanvragen mag maximaal 250 karakters bevatten",
        "REL-0093" => "Het opgegeven CC-e-mailadres voor Offerte-aanvragen is ongeldig",
        "REL-0095" => "CC-e-mailadres voor Offerte-aanvragen mag maximaal 250 karakters bevatten",
        "REL-0096" => {
            "E-mailadres voor Bestellingen moet ingevuld zijn als deze standaard gemaild moeten worden"
        }
        "REL-0097" => "Het opgegeven e-mailadres voor Bestellingen is ongeldig",
        "REL-0099" => "E-mailadres voor Bestellingen mag maximaal 250 karakters bevatten",
        "REL-0100" => "Het opgegeven CC-e-mailadres voor Bestellingen is ongeldig",
        "REL-0102" => "CC-e-mailadres voor Bestellingen mag maximaal 250 karakters bevatten",
        "REL-0103" => {
            "Klant kan niet worden verwijderd omdat deze intern door SnelStart wordt gebruikt"
        }
        _ => "Onbekende fout",
    }
}

fn email_list_message(code: &str) -> &'static str {
    match code {
        "REL-0068" => {
            "AanmaningEmailVersturen.Email bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0070" => {
            "AanmaningEmailVersturen.CcEmail bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0072" => {
            "FactuurEmailVersturen.Email bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0074" => {
            "FactuurEmailVersturen.CcEmail bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0076" => {
            "BevestigingsEmailVersturen.Email bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0078" => {
            "BevestigingsEmailVersturen.CcEmail bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0080" => {
            "OfferteEmailVersturen.Email bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        "REL-0082" => {
            "OfferteEmailVersturen.CcEmail bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
        _ => {
            "Email bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen opgeven door ze te scheiden met een puntkomma(;)."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message we know matches `shared/snelstart/foutcodes-v2.json` (skipped when the
    /// shared folder is not beside the repository).
    #[test]
    fn messages_match_the_code_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/snelstart/foutcodes-v2.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let table: Value = serde_json::from_str(&text).unwrap_or_default();
        let mut checked = 0;
        for c in table["codes"].as_array().into_iter().flatten() {
            let (Some(code), Some(expected)) = (c["errorCode"].as_str(), c["message"].as_str())
            else {
                continue;
            };
            let ours = message(code);
            if ours != "Onbekende fout" || code == "ALG-0102" {
                assert_eq!(ours, expected, "{code}");
                checked += 1;
            }
        }
        assert!(checked > 90, "{checked}");
    }
}
