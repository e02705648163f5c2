// The fast graph of the isolation benchmark: the HTTP benchmark's echo graph, served next to misbehaving ones.
export { default } from "../../project/graphs/echo.js";
