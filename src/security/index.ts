/** Security core (framework-free): JWT verification and minting, and exact rate limits. */
export * from "./jwt/index.js";
export * from "./rate-limit/index.js";
