// The sign-in forms both pages share: email and password (user-service) or a pasted API key.
import { describe } from "./api.js";

/** Wires #password-form and #apikey-form; calls onSignedIn() once either succeeds. */
export function setupSignIn({ onPassword, onApiKey, onSignedIn }) {
  const error = document.getElementById("signin-error");
  const run = (form, action) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await action();
      form.reset();
      await onSignedIn();
    } catch (err) {
      error.textContent = describe(err);
      form.querySelector("input").focus();
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
  run(document.getElementById("password-form"), () => onPassword(
    document.getElementById("email").value.trim(), document.getElementById("password").value));
  run(document.getElementById("apikey-form"), () => onApiKey(document.getElementById("api-key").value));
}
