import { afterEach, describe, expect, it } from "vitest";
import { envChoices, envInteger } from "../../../bench/failoverSupport.js";

const NAME = "IRONLB_TEST_FAILOVER_SUPPORT";
const KINDS = ["hard", "kill", "term"] as const;

afterEach(() => {
  Reflect.deleteProperty(process.env, NAME);
});

function setEnv(text: string | undefined): void {
  if (text === undefined) Reflect.deleteProperty(process.env, NAME);
  else process.env[NAME] = text;
}

describe("envInteger", () => {
  it.each([
    { description: "unset gives the default", text: undefined, min: 1, expected: 600 },
    { description: "blank gives the default", text: "  ", min: 1, expected: 600 },
    { description: "a positive integer", text: "20", min: 1, expected: 20 },
    { description: "0 where 0 is allowed", text: "0", min: 0, expected: 0 },
    { description: "a positive integer where 0 is allowed", text: "30", min: 0, expected: 30 },
  ])("$description", ({ text, min, expected }) => {
    setEnv(text);
    expect(envInteger(NAME, 600, min)).toBe(expected);
  });

  it.each([
    { description: "0 where it must be positive", text: "0", min: 1, message: "must be a positive integer" },
    {
      description: "negative where 0 is allowed",
      text: "-1",
      min: 0,
      message: "must be 0 or a positive integer",
    },
    { description: "a fraction", text: "1.5", min: 0, message: "must be 0 or a positive integer" },
    { description: "not a number", text: "ten", min: 1, message: "must be a positive integer" },
    { description: "below a larger minimum", text: "2", min: 5, message: "must be an integer >= 5" },
  ])("rejects $description", ({ text, min, message }) => {
    setEnv(text);
    expect(() => envInteger(NAME, 600, min)).toThrow(`${NAME} ${message}, got ${JSON.stringify(text)}`);
  });
});

describe("envChoices", () => {
  it.each([
    { description: "unset gives all", text: undefined, expected: ["hard", "kill", "term"] },
    { description: "blank gives all", text: "", expected: ["hard", "kill", "term"] },
    { description: "one choice", text: "hard", expected: ["hard"] },
    { description: "spaces around words", text: " term , hard ", expected: ["hard", "term"] },
    { description: "duplicates merged", text: "kill,kill", expected: ["kill"] },
  ])("$description", ({ text, expected }) => {
    setEnv(text);
    expect(envChoices(NAME, KINDS)).toEqual(expected);
  });

  it.each([
    { description: "an unknown word", text: "hard,crash", unknown: '"crash"' },
    { description: "an empty word", text: "hard,", unknown: '""' },
    { description: "a different case", text: "Hard", unknown: '"Hard"' },
  ])("rejects $description", ({ text, unknown }) => {
    setEnv(text);
    expect(() => envChoices(NAME, KINDS)).toThrow(
      `${NAME} must be a comma-separated list of hard, kill, term; unknown: ${unknown}`,
    );
  });
});
