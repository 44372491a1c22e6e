"use strict";
// matrix-bot-sdk requires this module at import time but only touches it inside its
// end-to-end-encryption code paths, which Parley never enables. Any real use fails loudly.
const unavailable = (name) =>
  new Error(
    `end-to-end encryption is not available in Parley: @matrix-org/matrix-sdk-crypto-nodejs is a stub (accessed ${String(name)})`,
  );
// Keys that module loaders and interop helpers probe without meaning to use the binding.
const probes = new Set(["__esModule", "default", "then", "constructor", "toJSON", "inspect", "prototype"]);
module.exports = new Proxy(
  {},
  {
    get(_target, key) {
      if (typeof key === "symbol" || probes.has(key)) return undefined;
      throw unavailable(key);
    },
  },
);
