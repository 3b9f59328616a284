use axum::extract::State;
use axum::http::StatusCode;
use insightops::health::health;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

#[sqlx::test]
async fn health_is_ok_when_the_database_answers(pool: PgPool) {
    let (status, body) = health(State(pool)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.0, serde_json::json!({ "status": "ok", "db": "ok" }));
}

#[tokio::test]
async fn health_is_503_when_the_database_is_down() {
    // Port 1 on loopback: nothing listens, so every connection attempt fails at once.
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .expect("lazy pool");
    let (status, body) = health(State(pool)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body.0["db"], "error");
}
