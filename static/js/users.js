// The administrator's accounts page: every action is confirmed in a dialog before its form is sent.
// Without this script the server asks on a page of its own (the form arrives without confirmed=yes).

const dialog = document.getElementById("confirm-dialog");
const text = document.getElementById("confirm-text");
let pending = null; // the form waiting for the administrator's answer

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    const confirmed = form.elements.namedItem("confirmed");
    if (confirmed.value === "yes") return; // answered: let it go
    event.preventDefault();
    const tokens = form.elements.namedItem("tokens");
    text.textContent = form.dataset.confirm + (tokens && tokens.checked ? " " + form.dataset.confirmTokens : "");
    pending = form;
    dialog.returnValue = "";
    dialog.showModal();
  });
}

dialog.addEventListener("close", () => {
  const form = pending;
  pending = null;
  if (!form) return;
  if (dialog.returnValue === "confirm") {
    form.elements.namedItem("confirmed").value = "yes";
    form.submit();
  } else {
    form.querySelector("button[type=submit]").focus(); // back where the administrator was
  }
});
