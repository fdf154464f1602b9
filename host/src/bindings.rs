//! Host bindings for `authzlab:validator@0.3.0`. The generated names (`Validator`,
//! `ValidatorPre`, `call_validate`) come from the WIT world, so they read like the contract.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "validator",
    additional_derives: [PartialEq, Eq],
    // Host functions may trap: a plugin that spends its host-call budget is stopped.
    imports: { default: trappable },
});
