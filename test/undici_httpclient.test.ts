// UndiciAsyncHTTPClient: the shared AsyncHTTPClient suite, and selection through configure().
import assert from "node:assert/strict";
import { test } from "node:test";
import { AsyncHTTPClient } from "../src/httpclient.js";
import { SimpleAsyncHTTPClient } from "../src/simple_httpclient.js";
import { UndiciAsyncHTTPClient } from "../src/undici_httpclient.js";
import { httpClientContract } from "./helpers/httpclient-contract.js";

httpClientContract("UndiciAsyncHTTPClient", (options) => new UndiciAsyncHTTPClient(options));

test("AsyncHTTPClient.configure selects the undici implementation and its defaults", () => {
  const saved = AsyncHTTPClient.saveConfiguration();
  try {
    AsyncHTTPClient.configure(UndiciAsyncHTTPClient, { maxClients: 7 });
    const client = new AsyncHTTPClient();
    assert.ok(client instanceof UndiciAsyncHTTPClient);
    assert.equal(client.maxClients, 7);
    client.close();
    AsyncHTTPClient.configure(null);
    const plain = new AsyncHTTPClient();
    assert.ok(plain instanceof SimpleAsyncHTTPClient);
    plain.close();
  } finally {
    AsyncHTTPClient.restoreConfiguration(saved);
  }
});
