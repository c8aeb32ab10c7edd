// Copy buttons for the testing-token page: an enhancement; without JavaScript, select the text.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copy);
    field.select();
    (navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject())
      .catch(function () { document.execCommand("copy"); })
      .finally(function () { button.textContent = "Copied"; });
  });
});
