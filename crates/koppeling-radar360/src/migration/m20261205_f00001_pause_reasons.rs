//! Issue 14: the `problem` of a koppeling is a typed reason
//! (`koppeling_domain::pause::PauseReason`), stored as a stable token instead of a Dutch
//! sentence. Converts the sentences stored so far; a text it does not recognise stays and
//! is read as `PauseReason::Recorded` (shown as it was).

use sea_orm_migration::prelude::*;

use super::run_script;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_f00001_pause_reasons"
    }
}

// No `;` inside the statements: `run_script` splits on it (hence the `%` in the
// checks-running pattern). 77 = 1 + the length of the checks-failed prefix.
const UP: &str = r"
UPDATE koppelingen SET problem = 'subscription_key_refused'
    WHERE paused_for_subscription OR problem LIKE 'SnelStart weigert de subscription key%';
UPDATE koppelingen SET problem = 'key_refused'
    WHERE problem LIKE 'SnelStart weigert de koppelsleutel%';
UPDATE koppelingen SET problem = 'key_unusable'
    WHERE problem LIKE 'sleutel onbruikbaar%';
UPDATE koppelingen SET problem = 'key_withdrawn'
    WHERE problem = 'de koppelsleutel is ingetrokken in SnelStart';
UPDATE koppelingen SET problem = 'checks_running'
    WHERE problem LIKE 'koppelsleutel ontvangen via SnelStart%de controles lopen';
UPDATE koppelingen SET problem = 'checks_failed:' || substr(problem, 77)
    WHERE problem LIKE 'de koppelsleutel is via SnelStart ontvangen, maar de controles slagen niet: %'
";

const DOWN: &str = r"
UPDATE koppelingen SET problem = 'SnelStart weigert de subscription key van de koppeling (operator)'
    WHERE problem = 'subscription_key_refused';
UPDATE koppelingen SET problem = 'SnelStart weigert de koppelsleutel'
    WHERE problem = 'key_refused';
UPDATE koppelingen SET problem = 'sleutel onbruikbaar: de opgeslagen koppelsleutel kan met geen van de ingestelde master keys worden ontsleuteld, vul de koppelsleutel opnieuw in bij Instellingen'
    WHERE problem = 'key_unusable';
UPDATE koppelingen SET problem = 'de koppelsleutel is ingetrokken in SnelStart'
    WHERE problem = 'key_withdrawn';
UPDATE koppelingen SET problem = 'koppelsleutel ontvangen via SnelStart, de controles lopen'
    WHERE problem = 'checks_running';
UPDATE koppelingen SET problem = 'de koppelsleutel is via SnelStart ontvangen, maar de controles slagen niet: ' || substr(problem, 15)
    WHERE substr(problem, 1, 14) = 'checks_failed:'
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, DOWN).await
    }
}
