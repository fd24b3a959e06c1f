//! Opens N WebSocket connections to URL and keeps them idle until stdin
//! closes: `idle_clients URL N`. Prints `ready` once all are open.

use std::io::Read;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("URL");
    let count: usize = args.next().expect("N").parse().expect("N is a number");
    let mut held = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(250) {
        let opening: Vec<_> = batch
            .iter()
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { sockweave_tokio::connect(&url).await })
            })
            .collect();
        for task in opening {
            held.push(task.await.expect("task").expect("connect"));
        }
    }
    println!("ready {}", held.len());
    // Hold them until the measuring script is done.
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await
    .unwrap();
    drop(held);
}
