// SimpleAsyncHTTPClient: the shared suite, then what is specific to it (pooling, limits,
// hostile responses from a raw socket, proxies, TLS, 100-continue) and interop with Python
// Tornado's server.
import { SimpleAsyncHTTPClient } from "../src/simple_httpclient.js";
import { httpClientContract } from "./helpers/httpclient-contract.js";

httpClientContract("SimpleAsyncHTTPClient", (options) => new SimpleAsyncHTTPClient(options));
